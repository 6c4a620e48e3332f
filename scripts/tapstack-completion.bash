# bash completion of tapstack (installed as share/bash-completion/completions/tapstack).
# Completes the subcommands, each one's options, and the values the options take.
_tapstack()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]} sub=
	local w
	for w in "${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
		case "$w" in ss|stats) sub=$w; break ;; esac
	done
	case "$prev" in
	--tap) COMPREPLY=($(compgen -W "$(ls /sys/class/net 2>/dev/null)" -- "$cur")); return ;;
	--pcap|--pcapng|--access-log|--ctl) COMPREPLY=($(compgen -f -- "$cur")); return ;;
	--cc) COMPREPLY=($(compgen -W "cubic reno" -- "$cur")); return ;;
	--http) COMPREPLY=(); return ;;
	state) COMPREPLY=($(compgen -W "all connected synchronized established syn-sent syn-recv
		fin-wait-1 fin-wait-2 time-wait close-wait last-ack closing listening" -- "$cur")); return ;;
	sport|dport) COMPREPLY=($(compgen -W "=" -- "$cur")); return ;;
	--addr|--gateway|--mac|--mtu|--echo|--discard|--stall|--backlog|--metrics|--udp-echo|--udp-discard|--busy-poll) return ;;
	--io) COMPREPLY=($(compgen -W "uring plain" -- "$cur")); return ;;
	esac
	case "$sub" in
	ss) COMPREPLY=($(compgen -W "-t -u -l -a -n -i -e -o state sport dport --tap --ctl --help" -- "$cur")) ;;
	stats) COMPREPLY=($(compgen -W "-a -z -d -r --json --prometheus --tap --ctl --help" -- "$cur")) ;;
	*) COMPREPLY=($(compgen -W "ss stats --tap --addr --gateway --mac --mtu --pcap --pcapng --trace --quiet
		--no-offload --io --busy-poll --http --access-log --echo --discard --stall --metrics --udp-echo --udp-discard --backlog --ctl --cc --help
		--version" -- "$cur")) ;;
	esac
}
complete -F _tapstack tapstack

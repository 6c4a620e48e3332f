/*
 * stack.c - one stack instance: builds the layers, and is the one place a received frame
 * climbs them (docs/architecture.md, "Receive: up once").
 *
 *   ts_stack_input: ether_input -> ARP:  arp_input
 *                            -> IPv4: ipv4_input -> ICMP: icmp_input -> error about TCP: tcp_icmp_error
 *                                                                    -> error about UDP: udp_icmp_error
 *                                                -> TCP:  tcp_input
 *                                                -> UDP:  udp_input
 *                                                -> else: icmp_send_unreachable(protocol)
 *
 * Each layer returns what it found (an EtherType, a delivered datagram) instead of calling
 * upward itself, so no layer needs to see `struct stack` and the include graph stays
 * one-way. Called by the program's loop (stack/loop.c) and by tests; owns the device, the
 * pbuf pool, the timer heap and every layer context, all inside `struct stack`.
 */
#include "stack.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "wire/dump.h"
#include "wire/ethernet.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"

static const char *const stack_counter_names[] = { STACK_COUNTERS(COUNTER_NAME) };
static const char *const pbuf_counter_names[] = { "alloc_fail", "trimmed" };
static const char *const timer_counter_names[] = { "heap_ops" };

void ts_stack_config_default(struct stack_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	link_config_default(&cfg->link);
	ip_config_default(&cfg->ip);
	tcp_config_default(&cfg->tcp);
	udp_config_default(&cfg->udp);
	cfg->link.addr = IPV4_ADDR(10, 0, 0, 2);
	cfg->link.prefix_len = 24;
	cfg->link.mtu = 1500;
	/* Zero MAC and seed: ts_stack_init draws both from getrandom (safe by default). */
	memset(cfg->link.mac, 0, ETH_ALEN);
	cfg->seed = 0;
	cfg->pbuf_small_max = PBUF_SMALL_MAX_DEFAULT;
	cfg->pbuf_large_max = PBUF_LARGE_MAX_DEFAULT;
}

static void stack_note_init(struct stack *s);
static void stack_tx_settle(void *arg);

void ts_stack_config_fixed(struct stack_config *cfg, uint64_t seed)
{
	static const uint8_t mac[ETH_ALEN] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };
	memcpy(cfg->link.mac, mac, ETH_ALEN);
	cfg->seed = seed ? seed : 1;
}

/* len random bytes from the kernel's CSPRNG (blocks only before it is first seeded at boot). */
static int stack_getrandom(void *buf, size_t len)
{
	for (size_t got = 0; got < len;) {
		ssize_t n = getrandom((uint8_t *)buf + got, len - got, 0);
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n > 0)
			got += (size_t)n;
	}
	return 0;
}

/*
 * The secrets of RFC 6528 (ISN key, derived from the seed in tcp_init) and the station's MAC:
 * what the caller left zero is drawn here, so two instances never share them by accident.
 */
static int stack_draw_identity(uint64_t *seed, uint8_t mac[ETH_ALEN])
{
	int err;
	while (*seed == 0)
		if ((err = stack_getrandom(seed, sizeof(*seed))) != 0)
			return err;
	if (eth_addr_is_zero(mac)) {
		if ((err = stack_getrandom(mac, ETH_ALEN)) != 0)
			return err;
		/* IEEE 802: locally administered (bit 1 set), unicast (bit 0 clear). */
		mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02);
	}
	return 0;
}

int ts_stack_init(struct stack *s, const struct stack_config *cfg, struct netdev *dev, usec_t now)
{
	int err;
	memset(s, 0, sizeof(*s));
	s->dev = dev;
	s->core.now = now;
	s->core.tx = (struct core_tx){ .late = dev->tx_late, .epoch = 1, .settle = stack_tx_settle, .arg = s };
	s->core.log = cfg->log;
	uint64_t seed = cfg->seed;
	struct link_config lc = cfg->link;
	err = stack_draw_identity(&seed, lc.mac);
	if (err) {
		netdev_close(dev);
		return err;
	}
	rng_seed(&s->core.rng, seed);
	/* A device that delivers coalesced 64 KiB segments (GRO) needs a large buffer for every
	 * receive, so the large class must hold a receive batch besides what TCP keeps out of
	 * order: STACK_LARGE_MAX_GRO at least. */
	uint32_t large_max = cfg->pbuf_large_max;
	s->rx_room = netdev_rx_room(dev);
	s->busy_poll_usec = cfg->busy_poll_usec;
	/* The same when jumbo frames (an MTU above 1500) make every frame a large buffer. */
	if ((s->rx_room + PBUF_HEADROOM > PBUF_SMALL_CAP) && large_max < STACK_LARGE_MAX_GRO)
		large_max = STACK_LARGE_MAX_GRO;
	pbuf_pool_init(&s->core.pool, cfg->pbuf_small_max, large_max);
	timer_heap_init(&s->core.timers);

	if (!lc.mtu)
		lc.mtu = dev->mtu ? dev->mtu : 1500;
	err = link_init(&s->link, &s->core, dev, &lc);
	if (err)
		goto fail_core;
	err = ip_init(&s->ip, &s->core, &s->link, &cfg->ip);
	if (err)
		goto fail_link;
	struct tcp_config tc = cfg->tcp;
	tc.mtu = lc.mtu;                       /* one interface, one MTU: our MSS is mtu - 40 */
	/* The device's send offloads decide how TCP builds segments (docs/drivers.md). */
	tc.csum_offload = (dev->offload & NETDEV_OFF_CSUM) != 0;
	tc.gso_max = (dev->offload & (NETDEV_OFF_CSUM | NETDEV_OFF_TSO4)) == (NETDEV_OFF_CSUM | NETDEV_OFF_TSO4)
	             ? TCP_GSO_MAX_PAYLOAD : 0;
	err = tcp_init(&s->tcp, &s->core, &s->ip, &tc);
	if (err)
		goto fail_ip;
	struct udp_config uc = cfg->udp;
	uc.csum_offload = tc.csum_offload;
	err = udp_init(&s->udp, &s->core, &s->ip, &uc);
	if (err)
		goto fail_tcp;
	err = socket_layer_init(&s->sock, &s->tcp, &s->udp);
	if (err)
		goto fail_udp;
	if (dev->ops->rx_note)
		stack_note_init(s);
	link_start(&s->link);
	return 0;

fail_udp:
	udp_destroy(&s->udp);
fail_tcp:
	tcp_destroy(&s->tcp);
fail_ip:
	ip_destroy(&s->ip);
fail_link:
	link_destroy(&s->link);
fail_core:
	netdev_close(dev);
	s->dev = NULL;
	timer_heap_destroy(&s->core.timers);
	pbuf_pool_destroy(&s->core.pool);
	return err < 0 ? err : -EINVAL;
}

void ts_stack_destroy(struct stack *s)
{
	/* What the device still holds leaves first: it reads the send rings freed below. */
	ts_stack_flush(s);
	/* Top down: sockets release connections before TCP frees its tables, and so on. */
	socket_layer_destroy(&s->sock);
	udp_destroy(&s->udp);
	tcp_destroy(&s->tcp);
	ip_destroy(&s->ip);
	link_destroy(&s->link);
	netdev_close(s->dev);
	s->dev = NULL;
	timer_heap_destroy(&s->core.timers);
	pbuf_pool_destroy(&s->core.pool);
	free(s->note_snap);
	s->note_snap = NULL;
}

static void stack_ip_input(struct stack *s, struct pbuf *pb);

/* The stack owns pb afterwards: each branch passes it up or it is freed and counted below it. */
void ts_stack_input(struct stack *s, struct pbuf *pb)
{
	s->cnt.rx_frames++;
	int type = ether_input(&s->link, pb);
	if (type < 0)
		return;                                 /* counted and freed by the link layer */
	if (type == ETHERTYPE_ARP) {
		arp_input(&s->link, pb);
		return;
	}
	if (type != ETHERTYPE_IPV4) {
		/* ether_input only returns the two types we speak; keep the one exit honest anyway. */
		s->cnt.drop_unknown_ethertype++;
		pbuf_free(pb);
		return;
	}
	stack_ip_input(s, pb);
}

/* An IPv4 datagram, pb->data at its header (from the wire, or one we sent ourselves), up to
 * its transport. The stack owns pb afterwards, as above. */
static void stack_ip_input(struct stack *s, struct pbuf *pb)
{
	struct ipv4_rx rx;
	if (ipv4_input(&s->ip, &pb, &rx) != 1)
		return;                                 /* dropped and counted, or held for reassembly */
	switch (rx.proto) {
	case IPPROTO_ICMP_NUM: {
		/* An ICMP error quoting one of our datagrams goes up to its transport
		 * (RFC 1122 4.2.3.9 for TCP, 4.1.3.3 for UDP). */
		struct icmp_err ie;
		if (!icmp_input(&s->ip, pb, &rx, &ie))
			return;
		if (ie.proto == IPPROTO_TCP_NUM)
			tcp_icmp_error(&s->tcp, &ie);
		else if (ie.proto == IPPROTO_UDP_NUM)
			udp_icmp_error(&s->udp, &ie);
		return;
	}
	case IPPROTO_TCP_NUM:
		tcp_input(&s->tcp, pb, &rx);
		return;
	case IPPROTO_UDP_NUM:
		udp_input(&s->udp, pb, &rx);
		return;
	default:
		/* RFC 1122 3.2.2.1: a host SHOULD answer a protocol it does not implement with
		 * protocol unreachable; icmp_send_unreachable() applies the broadcast, error,
		 * fragment and rate-limit rules, counts ip unknown_proto and always consumes pb. */
		icmp_send_unreachable(&s->ip, pb, &rx, ICMP_UNREACH_PROTOCOL);
		return;
	}
}

/*
 * Drop reasons for a capture (netdev rx_note, used by the pcapng writer): the counters are
 * copied before a received frame is processed and compared after; the first counter that moved
 * and counts drops names the reason. About 200 compares per frame, and only when a device asked
 * for notes: the ordinary path never pays for it. No allocation per frame (the copy is made once).
 */
#define STACK_NOTE_GROUPS 32

static void stack_note_init(struct stack *s)
{
	struct counter_group g[STACK_NOTE_GROUPS];
	size_t n = ts_stack_counter_groups(s, g, STACK_NOTE_GROUPS), total = 0;
	for (size_t i = 0; i < n; i++)
		total += g[i].n;
	s->note_snap = calloc(total, sizeof(*s->note_snap));
	s->note_n = s->note_snap ? total : 0;   /* no memory: frames just go without notes */
}

static void stack_note_before(struct stack *s)
{
	struct counter_group g[STACK_NOTE_GROUPS];
	size_t n = ts_stack_counter_groups(s, g, STACK_NOTE_GROUPS), k = 0;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < g[i].n && k < s->note_n; j++)
			s->note_snap[k++] = g[i].values[j];
}

/* A counter of dropped or refused input: "drop" in its name, or netstat's ...Errs, ...Errors,
 * or input answered with an ICMP unreachable instead of delivered. */
static bool stack_note_is_drop(const char *name)
{
	size_t len = strlen(name);
	return strcasestr(name, "drop") || (len > 4 && strcmp(name + len - 4, "Errs") == 0) ||
	       (len > 6 && strcmp(name + len - 6, "Errors") == 0) || strcmp(name, "unknown_proto") == 0 ||
	       strcmp(name, "NoPorts") == 0;
}

/* netstat's sums of several reasons (UDP's InErrors, TCP's InErrs): named only when no
 * counter of the reason itself moved with them. */
static bool stack_note_is_sum(const char *name)
{
	return strcmp(name, "InErrors") == 0 || strcmp(name, "InErrs") == 0;
}

static void stack_note_after(struct stack *s)
{
	struct counter_group g[STACK_NOTE_GROUPS];
	size_t n = ts_stack_counter_groups(s, g, STACK_NOTE_GROUPS), k = 0;
	char reason[96] = "";
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < g[i].n && k < s->note_n; j++, k++)
			if (g[i].values[j] != s->note_snap[k] && stack_note_is_drop(g[i].names[j])) {
				bool sum = stack_note_is_sum(g[i].names[j]);
				if (sum && reason[0])
					continue;
				snprintf(reason, sizeof(reason), "%s.%s", g[i].layer, g[i].names[j]);
				if (!sum)
					goto found;
			}
	if (!reason[0])
		return;
found:
	s->dev->ops->rx_note(s->dev, reason);
}

/* One round of ts_stack_poll; clock, when given, is read again before each frame. */
static int stack_poll(struct stack *s, usec_t now, usec_t (*clock)(void))
{
	int taken = 0, err = 0;
	s->core.now = now;
	/* What the application's calls queued since the last round leaves before more input is
	 * read (a late device holds it until a flush): an answer is not kept waiting. */
	ts_stack_flush(s);
	/*
	 * A bounded batch: a flood on the device cannot starve the timers and the apps; the
	 * caller polls again at once when the whole batch was used.
	 */
	while ((unsigned)taken < STACK_POLL_BATCH) {
		/* Headroom so a layer may answer in place (an echo reply reuses the request). */
		struct pbuf *pb = pbuf_alloc(&s->core.pool, PBUF_HEADROOM, s->rx_room);
		if (!pb) {
			s->cnt.drop_pbuf_alloc++;       /* frames stay in the device until buffers return */
			break;
		}
		int n = netdev_recv(s->dev, &pb); /* the driver may hand back another pbuf */
		if (n <= 0) {
			pbuf_free(pb);
			if (n < 0) {
				s->cnt.drv_rx_errors++;
				err = n;
			}
			break;
		}
		if (clock) {
			usec_t t = clock(); /* this frame's time; never behind the batch's */
			if (t > now)
				s->core.now = now = t;
		}
		if (s->note_n)
			stack_note_before(s);
		ts_stack_input(s, pb);
		if (s->note_n)
			stack_note_after(s);
		taken++;
	}
	/* Datagrams we sent ourselves (our address, 127.x): what waited when this round began,
	 * so two sockets talking to each other cannot keep one round going for ever. Their
	 * answers wait for the next round, which ts_stack_next_deadline makes immediate. */
	for (uint32_t n = s->ip.loopq.count; n > 0; n--) {
		struct pbuf *lp = ip_loop_pop(&s->ip);
		if (s->core.log.trace) {
			/* --trace: what a tcpdump of Linux's lo would show (no frame: no driver line). */
			char line[512];
			dump_ipv4_datagram(line, sizeof(line), lp->data, lp->len);
			LOG_TRACE(&s->core.log, "lo  %s", line);
		}
		stack_ip_input(s, lp);
		taken++;
	}
	/* One ACK per connection for what the batch brought (stretch ACKs, docs/tcp.md). */
	tcp_flush_acks(&s->tcp);
	timer_run(&s->core.timers, now);
	ts_stack_flush(s);
	if (now >= s->pool_trim_at) {
		pbuf_pool_trim(&s->core.pool, STACK_POOL_TRIM_MAX);
		s->pool_trim_at = now + STACK_POOL_TRIM_USEC;
	}
	return taken ? taken : err;
}

int ts_stack_poll(struct stack *s, usec_t now)
{
	return stack_poll(s, now, NULL);
}

int ts_stack_poll_clock(struct stack *s, usec_t (*clock)(void))
{
	return stack_poll(s, clock(), clock);
}

void ts_stack_flush(struct stack *s)
{
	netdev_flush(s->dev);
	if (++s->core.tx.epoch == 0)
		s->core.tx.epoch = 1;   /* 0 is a ring's "never lent" */
}

/* core_tx_settle's flush: memory a queued frame reads is about to change (core/core.h). */
static void stack_tx_settle(void *arg)
{
	struct stack *s = arg;
	s->cnt.dev_settles++;
	ts_stack_flush(s);
}

void ts_stack_clock(struct stack *s, usec_t now)
{
	if (now > s->core.now)
		s->core.now = now;
}

usec_t ts_stack_next_deadline(const struct stack *s)
{
	/* A datagram to ourselves waits: the next round is due now. */
	if (ip_loop_pending(&s->ip))
		return s->core.now;
	return timer_next(&s->core.timers);
}

size_t ts_stack_counter_groups(const struct stack *s, struct counter_group *out, size_t max)
{
	size_t n = 0;
	if (n < max)
		out[n++] = COUNTER_GROUP("stack", stack_counter_names, &s->cnt);
	n += link_counter_groups(&s->link, out + n, max - n);
	n += ip_counter_groups(&s->ip, out + n, max - n);
	n += tcp_counter_groups(&s->tcp, out + n, max - n);
	n += udp_counter_groups(&s->udp, out + n, max - n);
	if (n < max)
		out[n++] = COUNTER_GROUP("pbuf", pbuf_counter_names, &s->core.pool.alloc_fail);
	/* Work, not events: O(log n) timer-heap operations (core/timer.c, docs/performance.md). */
	if (n < max)
		out[n++] = COUNTER_GROUP("timer", timer_counter_names, &s->core.timers.ops);
	/* The device's own, last (the TAP's system calls and refused writes). */
	if (s->dev && s->dev->ops->counters)
		n += s->dev->ops->counters(s->dev, out + n, max - n);
	return n;
}

struct socket_layer *ts_stack_sockets(struct stack *s)
{
	return &s->sock;
}

const char *tapstack_version(void)
{
	return TAPSTACK_VERSION;
}

/* ipv4.c - IPv4 input and output (skeleton: the contract compiles; filled in next). */
#include "ip/ip.h"

#include <errno.h>
#include <string.h>

#include "link/link.h"

static const char *const ip_counter_names[] = { IP_COUNTERS(COUNTER_NAME) };
static const char *const icmp_counter_names[] = { ICMP_COUNTERS(COUNTER_NAME) };

void ip_config_default(struct ip_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->ttl = 64;
	cfg->tcp_df = true;
	cfg->reass_timeout_ms = 30000;
	cfg->reass_max_slots = 16;
	cfg->reass_max_bytes = 512u * 1024u;
	cfg->icmp_echo_ignore_broadcasts = true;
	cfg->icmp_ratelimit_ms = 1000;
	cfg->icmp_ratelimit_burst = 6;
}

int ip_init(struct ip_layer *ip, struct core *core, struct link_layer *link, const struct ip_config *cfg)
{
	memset(ip, 0, sizeof(*ip));
	ip->core = core;
	ip->link = link;
	ip->cfg = *cfg;
	return 0;
}

void ip_destroy(struct ip_layer *ip)
{
	(void)ip;
}

int ipv4_input(struct ip_layer *ip, struct pbuf **pb, struct ipv4_rx *rx)
{
	(void)rx;
	ip->cnt.rx_packets++;
	pbuf_free(*pb);
	*pb = NULL;
	return 0;
}

int ipv4_output(struct ip_layer *ip, struct pbuf *pb, uint32_t src, uint32_t dst, uint8_t proto, uint8_t tos)
{
	(void)src; (void)dst; (void)proto; (void)tos;
	ip->cnt.tx_packets++;
	pbuf_free(pb);
	return -ENETUNREACH;
}

void icmp_input(struct ip_layer *ip, struct pbuf *pb, const struct ipv4_rx *rx)
{
	(void)rx;
	ip->icmp_cnt.in_msgs++;
	pbuf_free(pb);
}

void icmp_send_unreachable(struct ip_layer *ip, struct pbuf *pb, const struct ipv4_rx *rx, uint8_t code)
{
	(void)ip; (void)rx; (void)code;
	pbuf_free(pb);
}

uint32_t ip_local_addr(const struct ip_layer *ip)
{
	return ip->link->cfg.addr;
}

size_t ip_counter_groups(const struct ip_layer *ip, struct counter_group *out, size_t max)
{
	size_t n = 0;
	if (n < max)
		out[n++] = COUNTER_GROUP("ip", ip_counter_names, &ip->cnt);
	if (n < max)
		out[n++] = COUNTER_GROUP("icmp", icmp_counter_names, &ip->icmp_cnt);
	return n;
}

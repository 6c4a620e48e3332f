/* tcp.c - skeleton (being filled in). */
#include "tcp/tcp.h"

#include <errno.h>
#include <string.h>

void tcp_config_default(struct tcp_config *cfg) { memset(cfg, 0, sizeof(*cfg)); cfg->mtu = 1500; }
int tcp_init(struct tcp_layer *tl, struct core *core, struct ip_layer *ip, const struct tcp_config *cfg)
{
	memset(tl, 0, sizeof(*tl));
	tl->core = core;
	tl->ip = ip;
	tl->cfg = *cfg;
	return 0;
}
void tcp_destroy(struct tcp_layer *tl) { (void)tl; }
void tcp_input(struct tcp_layer *tl, struct pbuf *pb, const struct ipv4_rx *rx)
{
	(void)rx;
	tl->ctr.InSegs++;
	tl->ctr.drop_no_socket++;
	pbuf_free(pb);
}
static const char *const tcp_counter_names[] = { TCP_COUNTERS(COUNTER_NAME) };
size_t tcp_counter_groups(const struct tcp_layer *tl, struct counter_group *out, size_t max)
{
	if (max < 1)
		return 0;
	out[0] = COUNTER_GROUP("tcp", tcp_counter_names, &tl->ctr);
	return 1;
}
void tcp_foreach_sock(struct tcp_layer *tl, void (*fn)(const struct tcp_sock_info *, void *), void *arg)
{
	(void)tl; (void)fn; (void)arg;
}

/*
 * test_dump_pcap.c - wire/dump.c prints tcpdump's lines for the fixture frames and survives
 * every truncation; drivers/pcap.c writes a file in the libpcap format (header, records
 * both ways, timestamps from the owner's clock) and forwards frames unchanged; in pcapng each
 * frame carries its direction and a frame the stack dropped names the counter that says why.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "drivers/memdev.h"
#include "drivers/pcap.h"
#include "stack.h"
#include "stack_frames.h"
#include "wire/dump.h"

static void expect_line(const uint8_t *frame, size_t len, const char *want)
{
	char buf[512];
	size_t n = dump_frame(buf, sizeof(buf), frame, len);
	assert_int_equal(n, strlen(buf));
	assert_string_equal(buf, want);
}

static void test_dump_fixture_lines(void **state)
{
	(void)state;
	expect_line(fx_arp_request, sizeof(fx_arp_request), "ARP, Request who-has 10.0.0.2 tell 10.0.0.1, length 46");
	expect_line(fx_icmp_echo, sizeof(fx_icmp_echo),
	            "IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 4660, seq 1, length 64");
	expect_line(fx_udp, sizeof(fx_udp), "IP 10.0.0.1.40001 > 10.0.0.2.9: UDP, length 4");
	expect_line(fx_ip_first_fragment, sizeof(fx_ip_first_fragment),
	            "IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 4660, seq 1, length 24 (frag 5:24@0+)");
	char buf[512];
	dump_frame(buf, sizeof(buf), fx_tcp_syn, sizeof(fx_tcp_syn));
	assert_non_null(strstr(buf, "IP 10.0.0.1.40000 > 10.0.0.2.80: Flags [S], seq 1000"));
	assert_non_null(strstr(buf, "length 0"));
	expect_line(fx_tcp_syn, 20, "IP [|ip]");
}

/* Every truncation of every fixture gives a terminated line, even into a tiny buffer. */
static void test_dump_truncations(void **state)
{
	(void)state;
	const struct { const uint8_t *b; size_t n; } fx[] = {
		{ fx_arp_request, sizeof(fx_arp_request) }, { fx_icmp_echo, sizeof(fx_icmp_echo) },
		{ fx_icmp_echo_ip_options, sizeof(fx_icmp_echo_ip_options) }, { fx_tcp_syn, sizeof(fx_tcp_syn) },
		{ fx_udp, sizeof(fx_udp) }, { fx_ip_first_fragment, sizeof(fx_ip_first_fragment) },
	};
	for (size_t i = 0; i < sizeof(fx) / sizeof(fx[0]); i++) {
		for (size_t len = 0; len <= fx[i].n; len++) {
			char big[512], tiny[8];
			size_t n = dump_frame(big, sizeof(big), fx[i].b, len);
			assert_true(n > 0 && n < sizeof(big));
			n = dump_frame(tiny, sizeof(tiny), fx[i].b, len);
			assert_true(n < sizeof(tiny));
			assert_int_equal(strlen(tiny), n);
		}
	}
	expect_line(fx_arp_request, 10, "[|ether] length 10");
	expect_line(fx_arp_request, 20, "ARP, [|arp]");
}

struct hook_log {
	int in, out;
};

static void hook(void *arg, bool out, const uint8_t *frame, uint32_t len)
{
	struct hook_log *h = arg;
	(void)frame;
	assert_true(len > 0);
	if (out)
		h->out++;
	else
		h->in++;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static void test_pcap_file_both_ways(void **state)
{
	(void)state;
	char path[] = "/tmp/tapstack-test-pcap-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);

	struct netdev *a, *b, *w;
	assert_int_equal(memdev_pair_create(&a, &b, NULL), 0);
	usec_t now = 5 * USEC_PER_SEC + 42;
	struct hook_log hl = { 0, 0 };
	struct pcap_wrap_config pc = { .path = path, .clock = &now, .wall_base_usec = 1000 * USEC_PER_SEC,
	                               .hook = hook, .hook_arg = &hl };
	char err[128];
	assert_int_equal(ts_pcap_wrap(&w, a, &pc, err, sizeof(err)), 0);

	/* One frame in (from the peer), one out, the latter with a borrowed payload piece. */
	assert_int_equal(memdev_inject(b, fx_icmp_echo, sizeof(fx_icmp_echo)), 0);
	struct pbuf_pool pool;
	pbuf_pool_init(&pool, 4, 1);
	struct pbuf *pb = pbuf_alloc(&pool, 0, NETDEV_RX_ROOM);
	assert_int_equal(netdev_recv(w, &pb), (int)sizeof(fx_icmp_echo));
	pbuf_free(pb);
	pb = pbuf_alloc(&pool, 0, NETDEV_RX_ROOM);
	memcpy(pbuf_put(pb, 34), fx_icmp_echo, 34);
	pb->ext[0] = (struct pbuf_ext){ fx_icmp_echo + 34, (uint32_t)sizeof(fx_icmp_echo) - 34 };
	now += 7;
	assert_int_equal(netdev_send(w, pb), 0);
	pbuf_free(pb);
	pbuf_pool_destroy(&pool);
	assert_int_equal(ts_pcap_records(w), 2);
	assert_int_equal(hl.in, 1);
	assert_int_equal(hl.out, 1);
	uint8_t got[200];
	assert_int_equal(memdev_take(b, got, sizeof(got)), (int)sizeof(fx_icmp_echo));
	assert_memory_equal(got, fx_icmp_echo, sizeof(fx_icmp_echo));
	netdev_close(w);   /* flushes, closes the file and the wrapped device */
	netdev_close(b);

	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	uint8_t file[1024];
	size_t n = fread(file, 1, sizeof(file), f);
	fclose(f);
	unlink(path);
	size_t rec = 16 + sizeof(fx_icmp_echo);
	assert_int_equal(n, 24 + 2 * rec);
	assert_int_equal(rd32(file), 0xa1b2c3d4u);
	assert_int_equal(rd32(file + 20), PCAP_LINKTYPE_ETHERNET);
	assert_int_equal(rd32(file + 24), 1005);                 /* seconds: base + clock */
	assert_int_equal(rd32(file + 28), 42);                   /* microseconds */
	assert_int_equal(rd32(file + 32), sizeof(fx_icmp_echo)); /* incl_len */
	assert_memory_equal(file + 40, fx_icmp_echo, sizeof(fx_icmp_echo));
	assert_int_equal(rd32(file + 24 + rec + 4), 49);
	assert_memory_equal(file + 24 + rec + 16, fx_icmp_echo, sizeof(fx_icmp_echo));
}

/* The comments of the Enhanced Packet Blocks of a pcapng file, "flags|comment" per line. */
static void pcapng_comments(const uint8_t *d, size_t n, char *out, size_t cap)
{
	size_t off = 0, o = 0;
	out[0] = '\0';
	assert_int_equal(rd32(d), 0x0a0d0d0au);            /* Section Header Block first */
	assert_int_equal(rd32(d + 8), 0x1a2b3c4du);
	while (off + 12 <= n) {
		uint32_t type = rd32(d + off), blen = rd32(d + off + 4);
		assert_true(blen >= 12 && off + blen <= n);
		assert_int_equal(rd32(d + off + blen - 4), blen); /* the length again at the end */
		if (type == 6) {
			uint32_t cap_len = rd32(d + off + 20), flags = 0;
			size_t p = off + 28 + ((cap_len + 3) & ~3u), end = off + blen - 4;
			char text[128] = "";
			while (p + 4 <= end) {
				uint16_t code = (uint16_t)(d[p] | d[p + 1] << 8), len = (uint16_t)(d[p + 2] | d[p + 3] << 8);
				if (code == 0)
					break;
				if (code == 2)
					flags = rd32(d + p + 4) & 3u;
				if (code == 1)
					snprintf(text, sizeof(text), "%.*s", (int)len, (const char *)d + p + 4);
				p += 4 + ((len + 3u) & ~3u);
			}
			o += (size_t)snprintf(out + o, cap - o, "%u|%s\n", flags, text);
		}
		off += blen;
	}
}

static void test_pcapng_directions_and_drop_reasons(void **state)
{
	(void)state;
	char path[] = "/tmp/tapstack-test-pcapng-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	struct netdev *a, *b, *w;
	assert_int_equal(memdev_pair_create(&a, &b, NULL), 0);
	static struct stack s;
	struct pcap_wrap_config pc = { .path = path, .clock = &s.core.now, .pcapng = true };
	char err[128];
	assert_int_equal(ts_pcap_wrap(&w, a, &pc, err, sizeof(err)), 0);
	struct stack_config cfg;
	ts_stack_config_default(&cfg);
	ts_stack_config_fixed(&cfg, 1);
	assert_int_equal(ts_stack_init(&s, &cfg, w, USEC_PER_SEC), 0);   /* sends a gratuitous ARP */
	uint8_t bad[sizeof(fx_icmp_echo)];
	memcpy(bad, fx_icmp_echo, sizeof(bad));
	bad[24] ^= 0xff;                                                  /* the IPv4 header checksum */
	assert_int_equal(memdev_inject(b, bad, sizeof(bad)), 0);
	assert_int_equal(memdev_inject(b, fx_icmp_echo, sizeof(fx_icmp_echo)), 0);
	/* A UDP datagram with a bad checksum moves udp.InCsumErrors and the sum udp.InErrors:
	 * the note names the reason, not the sum. */
	uint8_t bad_udp[sizeof(fx_udp_hello)];
	memcpy(bad_udp, fx_udp_hello, sizeof(bad_udp));
	bad_udp[sizeof(bad_udp) - 1] ^= 0x01;
	assert_int_equal(memdev_inject(b, bad_udp, sizeof(bad_udp)), 0);
	ts_stack_poll(&s, 2 * USEC_PER_SEC);
	assert_int_equal(s.ip.cnt.drop_bad_checksum, 1);
	assert_int_equal(s.udp.cnt.InCsumErrors, 1);
	ts_stack_destroy(&s);   /* closes the wrapper: the file is complete */
	netdev_close(b);

	static uint8_t file[16384];
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	size_t n = fread(file, 1, sizeof(file), f);
	fclose(f);
	unlink(path);
	char got[1024];
	pcapng_comments(file, n, got, sizeof(got));
	/* The gratuitous ARP out, the bad frame in and refused, the good echo in, its reply out,
	 * the bad datagram in and refused. */
	if (!strstr(got, "2|out\n1|in; dropped: ip.drop_bad_checksum\n1|in\n2|out\n1|in; dropped: udp.InCsumErrors\n"))
		fail_msg("comments:\n%s", got);
}

static void test_pcap_bad_path(void **state)
{
	(void)state;
	struct netdev *a, *b, *w;
	assert_int_equal(memdev_pair_create(&a, &b, NULL), 0);
	struct pcap_wrap_config pc = { .path = "/nonexistent-dir/x.pcap" };
	char err[128];
	assert_true(ts_pcap_wrap(&w, a, &pc, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "/nonexistent-dir/x.pcap"));
	netdev_close(a);   /* still the caller's */
	netdev_close(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dump_fixture_lines),
		cmocka_unit_test(test_dump_truncations),
		cmocka_unit_test(test_pcap_file_both_ways),
		cmocka_unit_test(test_pcapng_directions_and_drop_reasons),
		cmocka_unit_test(test_pcap_bad_path),
	};
	return cmocka_run_group_tests_name("dump_pcap", tests, NULL, NULL);
}

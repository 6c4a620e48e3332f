/*
 * test_tcp_nomem.c - what TCP does when the memory it allocates while data flows is not
 * there: the send queue's PSH and MSG_EOR marks (struct tcp_marks, MarksNoMemory) and the
 * out-of-order queue (struct tcp_ofo, OfoNoMemory). Each refusal is counted, no byte is lost
 * or corrupted, and the connection goes on once memory is back; and each block is given
 * back when what it describes has gone, so an idle connection holds neither (docs/tcp.md,
 * "Buffer memory"). This program is linked with -Wl,--wrap=calloc and -Wl,--wrap=malloc
 * (Makefile, TEST_WRAP_*): both fail for one chosen size while a test asks them to. (The
 * marks come from the stack's shelf of kept blocks, core/spares.h, which mallocs only when
 * it is empty, as it is in a fresh stack.)
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tcp/tcp_int.h"
#include "helpers/tcp_harness.h"

#define DATA TCP_FLAG_ACK
#define PUSH (TCP_FLAG_ACK | TCP_FLAG_PSH)

/* calloc of this many bytes fails (0: none does); refused counts the failures. While
 * counting is set, allocs counts every malloc and calloc. */
static size_t fail_size;
static unsigned refused;
static bool counting;
static unsigned long allocs;

void *__real_calloc(size_t n, size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_calloc(size_t n, size_t size)
{
	if (fail_size && n * size == fail_size) {
		refused++;
		return NULL;
	}
	allocs += counting;
	return __real_calloc(n, size);
}

void *__real_malloc(size_t size);
void *__wrap_malloc(size_t size);
void *__wrap_malloc(size_t size)
{
	if (fail_size && size == fail_size) {
		refused++;
		return NULL;
	}
	allocs += counting;
	return __real_malloc(size);
}

static int nomem_setup(void **state)
{
	fail_size = 0;
	refused = 0;
	counting = false;
	allocs = 0;
	return th_setup(state);
}

static uint8_t buf[2048];

/* Without memory for the marks a write still goes out whole, only without PSH; with memory
 * back the next one has it, and once everything is acknowledged the marks are given back. */
static void test_push_mark_without_memory(void **state)
{
	struct th *h = *state;
	int fd = th_established(h);
	struct tcp_conn *c = th_conn(h, fd);
	uint32_t s = h->iss + 1, a = h->irs + 1;
	memset(buf, 'p', sizeof(buf));

	fail_size = sizeof(struct tcp_marks);
	assert_int_equal(ts_send(th_sl(h), fd, buf, 1000, 0), 1000);
	fail_size = 0;
	th_expect(h, DATA, s, a, TH_ANY, NULL, 1000);
	th_expect_none(h);
	assert_true(refused >= 1);
	assert_int_equal(th_counter(h, "tcp", "MarksNoMemory"), refused);
	assert_null(c->marks);

	th_send(h, TCP_FLAG_ACK, a, s + 1000, 65535, NULL, NULL, 0);
	assert_int_equal(ts_send(th_sl(h), fd, buf, 500, 0), 500);
	th_expect(h, PUSH, s + 1000, a, TH_ANY, NULL, 500);
	assert_non_null(c->marks);
	th_send(h, TCP_FLAG_ACK, a, s + 1500, 65535, NULL, NULL, 0);
	assert_null(c->marks); /* the queue drained: given back */
	th_expect_none(h);
}

/* MSG_EOR needs a mark for the record's end: without memory the send fails with ENOMEM
 * before it queues anything; with memory back the record goes, PSH on its end. */
static void test_eor_without_memory(void **state)
{
	struct th *h = *state;
	int fd = th_established(h);
	uint32_t s = h->iss + 1, a = h->irs + 1;
	memset(buf, 'e', sizeof(buf));

	fail_size = sizeof(struct tcp_marks);
	assert_int_equal(ts_send(th_sl(h), fd, buf, 700, MSG_EOR), -ENOMEM);
	fail_size = 0;
	th_expect_none(h);
	assert_int_equal(th_counter(h, "tcp", "MarksNoMemory"), 1);

	assert_int_equal(ts_send(th_sl(h), fd, buf, 700, MSG_EOR), 700);
	th_expect(h, PUSH, s, a, TH_ANY, NULL, 700);
	th_expect_none(h);
}

static void send_data(struct th *h, uint32_t off, uint32_t len, uint8_t fill)
{
	memset(buf, fill, len);
	th_send(h, TCP_FLAG_ACK, h->irs + 1 + off, h->iss + 1, 65535, NULL, buf, len);
}

/* An out-of-order segment that finds no memory for the queue is not kept (nor SACKed, nor
 * ACKed beyond RCV.NXT): the peer sends it again. The stream arrives whole and in order. */
static void test_ooo_without_memory(void **state)
{
	struct th *h = *state;
	int fd = th_established(h);
	struct tcp_conn *c = th_conn(h, fd);

	fail_size = sizeof(struct tcp_ofo);
	send_data(h, 1000, 1000, 'b');
	fail_size = 0;
	assert_int_equal(th_counter(h, "tcp", "OfoNoMemory"), 1);
	assert_null(c->ofo);
	th_drain(h);

	send_data(h, 0, 1000, 'a');
	assert_int_equal(c->rcv.nxt, h->irs + 1 + 1000); /* the refused segment was not kept */
	send_data(h, 2000, 1000, 'c');                  /* out of order again, with memory now */
	assert_int_equal(tcp_ooo_count(c), 1);
	send_data(h, 1000, 1000, 'b');                  /* the resend fills the hole */
	assert_int_equal(c->rcv.nxt, h->irs + 1 + 3000);
	assert_null(c->ofo); /* emptied: given back */
	th_drain(h);

	uint8_t got[3000];
	assert_int_equal(ts_recv(th_sl(h), fd, got, sizeof(got), 0), 3000);
	for (uint32_t i = 0; i < 3000; i++)
		assert_int_equal(got[i], "abc"[i / 1000]);
}

/* `rounds` request-response exchanges on fd: the peer's 100-byte request, the application
 * reads it and answers 300 bytes, the peer acknowledges them. Returns the allocations the
 * stack made meanwhile (those of the harness's frame queues not counted). */
static unsigned long exchanges(struct th *h, int fd, uint32_t *s, uint32_t *a, int rounds)
{
	uint8_t req[100], resp[300], got[sizeof(req)];
	memset(req, 'q', sizeof(req));
	memset(resp, 'r', sizeof(resp));
	unsigned long harness = th_allocs;
	allocs = 0;
	counting = true;
	for (int i = 0; i < rounds; i++) {
		th_send(h, PUSH, *a, *s, 65535, NULL, req, sizeof(req));
		*a += sizeof(req);
		assert_int_equal(ts_recv(th_sl(h), fd, got, sizeof(got), 0), sizeof(got));
		assert_int_equal(ts_send(th_sl(h), fd, resp, sizeof(resp), 0), sizeof(resp));
		*s += sizeof(resp);
		th_send(h, TCP_FLAG_ACK, *a, *s, 65535, NULL, NULL, 0);
	}
	counting = false;
	return allocs - (th_allocs - harness);
}

/*
 * After the first exchanges, a request-response connection allocates nothing: each response
 * takes a send ring, skb ends, marks and a send-time ring (without SACK) or a scoreboard
 * (with SACK), and gives them back when it is acknowledged, to the stack's shelves
 * (tl->ring_spares etc., core/spares.h), from which the next response takes them. ("Hot
 * paths do not allocate per packet", CONTRIBUTING.md.) The connection still holds none of
 * them between responses.
 */
static void test_exchange_allocates_nothing(void **state)
{
	struct th *h = *state;
	struct tcp_opts sack = th_mss_opts(1460);
	sack.sack_ok = true;
	for (int with_sack = 0; with_sack < 2; with_sack++) {
		h->peer_port = (uint16_t)(TH_PEER_PORT + with_sack);
		int fd;
		if (with_sack) {
			h->local_port = 81;
			fd = th_open_passive(h, th_listen(h, 81, 8), &sack, 65535);
		} else {
			fd = th_established(h);
		}
		struct tcp_conn *c = th_conn(h, fd);
		uint32_t s = h->iss + 1, a = h->irs + 1;

		assert_true(exchanges(h, fd, &s, &a, 2) > 0); /* the first responses fill the shelves */
		assert_int_equal(exchanges(h, fd, &s, &a, 50), 0);
		assert_int_equal(c->snd.una, s); /* every response was sent and acknowledged */
		assert_null(c->sndq.buf);
		assert_null(c->marks);
		assert_null(c->skbq.end);
		assert_null(c->sb.seg);
		assert_null(c->rtt.sent);
		th_drain(h);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_push_mark_without_memory, nomem_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_eor_without_memory, nomem_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_ooo_without_memory, nomem_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_exchange_allocates_nothing, nomem_setup, th_teardown),
	};
	return cmocka_run_group_tests_name("tcp_nomem", tests, NULL, NULL);
}

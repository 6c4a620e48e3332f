/*
 * test_tcp_nomem.c - what TCP does when the memory it allocates while data flows is not
 * there: the send queue's PSH and MSG_EOR marks (struct tcp_marks, MarksNoMemory) and the
 * out-of-order queue (struct tcp_ofo, OfoNoMemory). Each refusal is counted, no byte is lost
 * or corrupted, and the connection goes on once memory is back; and each block is given
 * back when what it describes has gone, so an idle connection holds neither (docs/tcp.md,
 * "Buffer memory"). This program is linked with -Wl,--wrap=calloc (Makefile, TEST_WRAP_*):
 * calloc fails for one chosen size while a test asks it to.
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

/* calloc of this many bytes fails (0: none does); refused counts the failures. */
static size_t fail_size;
static unsigned refused;

void *__real_calloc(size_t n, size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_calloc(size_t n, size_t size)
{
	if (fail_size && n * size == fail_size) {
		refused++;
		return NULL;
	}
	return __real_calloc(n, size);
}

static int nomem_setup(void **state)
{
	fail_size = 0;
	refused = 0;
	return th_setup(state);
}

static struct tcp_conn *conn_of(struct th *h)
{
	assert_non_null(h->st.tcp.all);
	return h->st.tcp.all;
}

static uint8_t buf[2048];

/* Without memory for the marks a write still goes out whole, only without PSH; with memory
 * back the next one has it, and once everything is acknowledged the marks are given back. */
static void test_push_mark_without_memory(void **state)
{
	struct th *h = *state;
	int fd = th_established(h);
	struct tcp_conn *c = conn_of(h);
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
	struct tcp_conn *c = conn_of(h);

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_push_mark_without_memory, nomem_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_eor_without_memory, nomem_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_ooo_without_memory, nomem_setup, th_teardown),
	};
	return cmocka_run_group_tests_name("tcp_nomem", tests, NULL, NULL);
}

/*
 * fuzz_drill_parse.c - libFuzzer target for the packetdrill script parser (tests/drill/lex.c,
 * parse.c): any bytes as a script. It must parse or say why (an error message that fits its
 * buffer), never crash, and free everything it built (LeakSanitizer checks).
 */
#include <string.h>

#include "tests/drill/script.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[DRILL_ERR_MAX];

	err[0] = '\0';
	struct drill_script *s = drill_script_parse("fuzz.pkt", (const char *)data, size, err);
	if (s)
		drill_script_free(s);
	else if (memchr(err, '\0', sizeof(err)) == NULL)
		__builtin_trap();
	return 0;
}

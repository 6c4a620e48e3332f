/*
 * tapstack.c - the program (placeholder until the stack layers land): prints its usage.
 */
#include <stdio.h>

int main(void)
{
	fprintf(stderr, "tapstack: not built yet\n");
	return 2;
}

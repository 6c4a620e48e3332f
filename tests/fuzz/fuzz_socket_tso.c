/*
 * fuzz_socket_tso.c - the socket_api target (fuzz_socket_api.c) with the offload path on
 * both ends of the cable (NETDEV_OFF_CSUM | NETDEV_OFF_TSO4 | NETDEV_OFF_GRO, as the TAP
 * with IFF_VNET_HDR): TCP sends super-segments up to 64 KiB (tcp_output.c's TSO length
 * rule), checksums are finished by the device, and the receiver takes GRO-sized frames. Same
 * input format and seeds (tests/fuzz/corpus/socket_tso).
 */
#define FZ_OFFLOAD (NETDEV_OFF_CSUM | NETDEV_OFF_TSO4 | NETDEV_OFF_GRO)
#include "tests/fuzz/fuzz_socket_api.c"

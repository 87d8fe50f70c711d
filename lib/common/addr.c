/* Addresses and IP protocols as text: IPv4 and IPv6 in the 16 bytes capsift keeps them in
 * (IPv4 as ::ffff:a.b.c.d). */
#include "common/internal.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

int sift_parse_addr(const char *s, uint8_t out[16])
{
    struct in_addr a4;
    if (inet_pton(AF_INET, s, &a4) == 1) {
        memset(out, 0, 10);
        out[10] = out[11] = 0xff;
        memcpy(out + 12, &a4, 4);
        return 4;
    }
    if (inet_pton(AF_INET6, s, out) == 1)
        return 6;
    return 0;
}

const char *sift_format_addr(const uint8_t addr[16], char *buf, size_t size)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(addr, mapped, 12) == 0 && size >= 16) { /* by hand: inet_ntop calls printf */
        char *p = buf;
        for (int i = 12; i < 16; i++) {
            unsigned v = addr[i];
            if (v >= 100)
                *p++ = (char)('0' + v / 100);
            if (v >= 10)
                *p++ = (char)('0' + v / 10 % 10);
            *p++ = (char)('0' + v % 10);
            *p++ = i < 15 ? '.' : '\0';
        }
    } else if (memcmp(addr, mapped, 12) == 0) {
        inet_ntop(AF_INET, addr + 12, buf, (socklen_t)size);
    } else
        inet_ntop(AF_INET6, addr, buf, (socklen_t)size);
    return buf;
}

const char *sift_ip_proto_name(uint8_t proto, char *buf, size_t size)
{
    switch (proto) {
    case 1:
        return "icmp";
    case 2:
        return "igmp";
    case 6:
        return "tcp";
    case 17:
        return "udp";
    case 47:
        return "gre";
    case 50:
        return "esp";
    case 58:
        return "icmpv6";
    case 132:
        return "sctp";
    default:
        snprintf(buf, size, "%u", proto);
        return buf;
    }
}

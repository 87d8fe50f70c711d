/* SSH: RFC 4253 (4.2 the protocol version exchange, 6 the binary packet, 7.1 SSH_MSG_KEXINIT)
 * and the HASSH strings as Salesforce defined them.
 *
 *  version:  "SSH-protoversion-softwareversion SP comments" CR LF (lines before it that do not
 *            begin "SSH-" are allowed to a server: skipped here)
 *  packet:   packet_length(4) padding_length(1) payload padding [mac]
 *  KEXINIT:  byte 20, cookie(16), ten name-lists (kex, host key, encryption c->s and s->c,
 *            mac c->s and s->c, compression c->s and s->c, languages c->s and s->c),
 *            boolean first_kex_packet_follows, uint32 0
 *  name-list: uint32 length, comma-separated names
 *
 *  HASSH:        kex;encryption_c2s;mac_c2s;compression_c2s   (the client's lists)
 *  HASSH-server: kex;encryption_s2c;mac_s2c;compression_s2c   (the server's)
 */
#include "common/cursor.h"
#include "common/internal.h"
#include "meta/meta_int.h"

#include <capsift/meta.h>

#include <string.h>

#define MSG_KEXINIT 20

size_t sift_ssh_parse_version(const uint8_t *p, size_t len, char *out, size_t size)
{
    if (size)
        out[0] = '\0';
    if (!p || len < 8 || memcmp(p, "SSH-", 4) != 0 || size == 0)
        return 0;
    const uint8_t *lf = memchr(p, '\n', len < 255 ? len : 255); /* 255 with CR LF at most */
    if (!lf)
        return 0;
    size_t n = (size_t)(lf - p);
    if (n > 0 && p[n - 1] == '\r')
        n--;
    if (!sift__meta_text(out, size, p, n, false))
        out[0] = '\0';
    return out[0] ? (size_t)(lf + 1 - p) : 0;
}

/* Appends sep and the n bytes of a name-list to out; false when they are not US-ASCII names
 * (then this is no KEXINIT). */
static bool append_list(char *out, size_t size, const char *sep, const uint8_t *b, uint32_t n,
                        bool *cut)
{
    for (uint32_t i = 0; i < n; i++)
        if (b[i] < 0x20 || b[i] >= 0x7f)
            return false;
    size_t k = strlen(out), s = strlen(sep);
    if (k + s + n >= size) {
        *cut = true;
        return true;
    }
    memcpy(out + k, sep, s);
    memcpy(out + k + s, b, n);
    out[k + s + n] = '\0';
    return true;
}

int sift_ssh_parse_kexinit(const uint8_t *p, size_t len, sift_ssh_kexinit_t *out)
{
    memset(out, 0, sizeof *out);
    if (!p || len < 6 + 16 + 40)
        return SIFT_EINVAL;
    uint32_t plen = sift_load_be32(p);
    uint8_t pad = p[4];
    if (p[5] != MSG_KEXINIT || plen < 1u + pad + 1 + 16 + 40 || plen > 35000 || pad < 4)
        return SIFT_EINVAL;
    if ((size_t)plen + 4 > len)
        return SIFT_ETRUNC; /* the rest is in later segments */
    sift_cursor_t c = sift_cur_make(p + 6, plen - 1 - pad - 1);
    sift_cur_skip(&c, 16);
    /* the lists of each string: kex, then encryption, mac and compression of its direction */
    static const uint8_t in_client[10] = {1, 0, 1, 0, 1, 0, 1, 0, 0, 0};
    static const uint8_t in_server[10] = {1, 0, 0, 1, 0, 1, 0, 1, 0, 0};
    for (int i = 0; i < 10; i++) {
        uint32_t n = sift_cur_be32(&c);
        const uint8_t *b = sift_cur_take(&c, n);
        if (!b) {
            memset(out, 0, sizeof *out);
            return SIFT_EINVAL;
        }
        const char *sep = i == 0 ? "" : ";";
        if ((in_client[i] && !append_list(out->client, sizeof out->client, sep, b, n, &out->cut)) ||
            (in_server[i] && !append_list(out->server, sizeof out->server, sep, b, n, &out->cut))) {
            memset(out, 0, sizeof *out);
            return SIFT_EINVAL;
        }
    }
    return 0;
}

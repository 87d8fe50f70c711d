/* Fuzz target: the DNS message parser (lib/meta/meta_dns.c), on any bytes. */
#include <capsift/meta.h>

#include <assert.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)sift_dns_plausible(data, size);
    sift_dns_msg_t d;
    if (sift_dns_parse(data, size, &d) != 0)
        return 0;
    assert(d.nrr <= SIFT_DNS_MAX_RR);
    for (size_t i = 0; i < d.nrr; i++) { /* every text is terminated within its field */
        assert(memchr(d.rr[i].name, 0, sizeof d.rr[i].name));
        assert(memchr(d.rr[i].data, 0, sizeof d.rr[i].data));
    }
    return 0;
}

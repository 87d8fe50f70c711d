/* Fuzz target: the HTTP, TLS, SSH, DHCP and X.509 parsers (lib/meta/meta_http.c, meta_tls.c,
 * meta_ssh.c, meta_dhcp.c, meta_x509.c), each on the same bytes: as a TLS server's flight,
 * the certificate found in it too. */
#include <capsift/meta.h>

#include <assert.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static sift_http_head_t h;
    if (sift_http_parse(data, size, &h) == 0) {
        assert(memchr(h.uri, 0, sizeof h.uri) && memchr(h.host, 0, sizeof h.host));
        assert(!h.complete || h.head_len <= size);
    }
    static sift_tls_hello_t t;
    if (sift_tls_parse_hello(data, size, &t) == 0) {
        assert(t.type == 1 || t.type == 2);
        assert(t.nalpn <= SIFT_TLS_ALPN_MAX && memchr(t.ja3, 0, sizeof t.ja3));
    }
    char v[256];
    size_t n = sift_ssh_parse_version(data, size, v, sizeof v);
    assert(n <= size && memchr(v, 0, sizeof v));
    (void)n;
    static sift_ssh_kexinit_t k;
    if (sift_ssh_parse_kexinit(data, size, &k) == 0)
        assert(memchr(k.client, 0, sizeof k.client) && memchr(k.server, 0, sizeof k.server));
    static sift_dhcp_msg_t d;
    int rc = sift_dhcp_parse(data, size, &d);
    if (rc == 0 || rc == SIFT_ETRUNC)
        assert(memchr(d.host_name, 0, sizeof d.host_name) &&
               memchr(d.vendor_class, 0, sizeof d.vendor_class) && (d.op == 1 || d.op == 2));
    static sift_x509_t x;
    if (sift_x509_parse(data, size, &x) == 0)
        assert(memchr(x.subject, 0, sizeof x.subject) && memchr(x.san, 0, sizeof x.san) &&
               x.nsan <= SIFT_X509_SAN_COUNT && x.der_len <= size);
    static uint8_t der[16384];
    size_t dlen, need;
    rc = sift_tls_server_cert(data, size, der, sizeof der, &dlen, &need);
    assert(rc == 0 || rc == 1 || rc == SIFT_EINVAL);
    assert(rc != 0 || need > size);
    if (rc == 1) {
        assert(dlen > 0 && dlen <= sizeof der);
        (void)sift_x509_parse(der, dlen, &x);
    }
    (void)rc;
    return 0;
}

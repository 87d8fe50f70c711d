/* The notes of a pcapng file (draft-ietf-opsawg-pcapng, sections 3.5 options, 4.1 SHB, 4.2
 * IDB, 4.6 ISB, 4.3 EPB options): what capinfos shows beyond the counts.
 *
 *  option: +---------------+---------------+  value padded to 4 bytes; code 0 ends the list
 *          | code 16       | length 16     |
 *          +---------------+---------------+
 *          | value ...                     |
 *
 *  SHB  2 shb_hardware   3 shb_os       4 shb_userappl               1 opt_comment (all)
 *  IDB  2 if_name        3 if_description  11 if_filter (type byte, then the filter)
 *       12 if_os         15 if_hardware
 *  ISB  4 isb_ifrecv     5 isb_ifdrop   6 isb_filteraccept  7 isb_osdrop  8 isb_usrdeliv (u64)
 *  EPB  1 opt_comment
 */
#include "common/cursor.h"
#include "io/reader_int.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

typedef struct opt {
    uint16_t code;
    uint16_t len;
    const uint8_t *v;
} opt_t;

/* The next option of a list, false at its end (or where it is damaged). */
static bool next_opt(sift_cursor_t *c, bool big, opt_t *o)
{
    if (sift_cur_left(c) < 4)
        return false;
    o->code = sift_cur_u16o(c, big);
    o->len = sift_cur_u16o(c, big);
    if (o->code == 0 || !(o->v = sift_cur_take(c, o->len)))
        return false;
    sift_cur_skip(c, (4 - (o->len & 3)) & 3);
    return true;
}

/* A text option into a note: up to its first NUL (some writers end strings with one and pad
 * after it, as tshark reads them), cut to fit, line breaks as spaces (as capinfos prints them)
 * and other control characters but tab as '?', so a note prints as one field. The first of
 * several stays. */
static void note_text(char dst[SIFT_NOTE_MAX], const uint8_t *v, size_t len)
{
    if (dst[0])
        return;
    const uint8_t *nul = memchr(v, 0, len);
    if (nul)
        len = (size_t)(nul - v);
    size_t n = len < SIFT_NOTE_MAX - 1 ? len : SIFT_NOTE_MAX - 1;
    for (size_t i = 0; i < n; i++)
        dst[i] = v[i] == '\r' || v[i] == '\n'  ? ' '
                 : v[i] < 0x20 && v[i] != '\t' ? '?'
                                               : (char)v[i];
    while (n > 0 && dst[n - 1] == ' ')
        n--; /* writers end with newlines */
    dst[n] = '\0';
}

/* Grows an array of notes to hold index i (zeroed), up to max; NULL past it or without memory. */
static void *note_at(void **arr, size_t *n, size_t i, size_t size, size_t max)
{
    if (i >= max)
        return NULL;
    if (i >= *n) {
        void *a = realloc(*arr, (i + 1) * size);
        if (!a)
            return NULL;
        memset((char *)a + *n * size, 0, (i + 1 - *n) * size);
        *arr = a;
        *n = i + 1;
    }
    return (char *)*arr + i * size;
}

static sift_iface_notes_t *iface_notes(sift_reader_t *r, uint32_t iface)
{
    size_t before = r->notes.nifaces;
    sift_iface_notes_t *in =
        note_at((void **)&r->notes.ifaces, &r->notes.nifaces, iface, sizeof *in, SIFT_NOTES_IFACES);
    for (size_t k = before; in && k < r->notes.nifaces; k++) {
        sift_iface_notes_t *f = &r->notes.ifaces[k];
        f->received = f->dropped = f->filter_accepted = f->os_dropped = f->delivered =
            SIFT_NOTE_UNSET;
    }
    return in;
}

/* The text options of a block: each code's note, at its offset in the notes struct; skip is
 * how many bytes of the value come before the text (if_filter's type byte). */
typedef struct text_opt {
    uint16_t code;
    uint8_t skip;
    size_t offset;
} text_opt_t;

static const text_opt_t section_opts[] = {
    {1, 0, offsetof(sift_section_notes_t, comment)},
    {2, 0, offsetof(sift_section_notes_t, hardware)},
    {3, 0, offsetof(sift_section_notes_t, os)},
    {4, 0, offsetof(sift_section_notes_t, application)},
};

static const text_opt_t iface_opts[] = {
    {1, 0, offsetof(sift_iface_notes_t, comment)},
    {2, 0, offsetof(sift_iface_notes_t, name)},
    {3, 0, offsetof(sift_iface_notes_t, description)},
    {11, 1, offsetof(sift_iface_notes_t, filter)},
    {12, 0, offsetof(sift_iface_notes_t, os)},
    {15, 0, offsetof(sift_iface_notes_t, hardware)},
};

static void text_options(const sift_reader_t *r, const uint8_t *opts, size_t len, void *notes,
                         const text_opt_t *tab, size_t ntab)
{
    sift_cursor_t c = sift_cur_make(opts, len);
    opt_t o;
    while (next_opt(&c, r->big, &o))
        for (size_t i = 0; i < ntab; i++)
            if (o.code == tab[i].code && o.len > tab[i].skip)
                note_text((char *)notes + tab[i].offset, o.v + tab[i].skip,
                          (size_t)o.len - tab[i].skip);
}

void sift__notes_section(sift_reader_t *r, const uint8_t *opts, size_t len)
{
    sift_section_notes_t *s = note_at((void **)&r->notes.sections, &r->notes.nsections,
                                      r->meta.sections - 1, sizeof *s, SIFT_NOTES_SECTIONS);
    if (s)
        text_options(r, opts, len, s, section_opts, sizeof section_opts / sizeof section_opts[0]);
}

void sift__notes_iface(sift_reader_t *r, uint32_t iface, const uint8_t *opts, size_t len)
{
    sift_iface_notes_t *f = iface_notes(r, iface);
    if (f)
        text_options(r, opts, len, f, iface_opts, sizeof iface_opts / sizeof iface_opts[0]);
}

void sift__notes_stats(sift_reader_t *r, uint32_t iface, const uint8_t *opts, size_t len)
{
    sift_iface_notes_t *f = iface_notes(r, iface);
    if (!f)
        return;
    f->stats_blocks++;
    f->received = f->dropped = f->filter_accepted = f->os_dropped = f->delivered =
        SIFT_NOTE_UNSET; /* the last block's counters */
    sift_cursor_t c = sift_cur_make(opts, len);
    opt_t o;
    while (next_opt(&c, r->big, &o)) {
        if (o.code < 4 || o.code > 8 || o.len != 8)
            continue;
        uint64_t v = r->big ? sift_load_be64(o.v) : sift_load_le64(o.v);
        uint64_t *dst[] = {&f->received, &f->dropped, &f->filter_accepted, &f->os_dropped,
                           &f->delivered};
        *dst[o.code - 4] = v;
    }
}

void sift__notes_packet(sift_reader_t *r, const uint8_t *opts, size_t len)
{
    sift_cursor_t c = sift_cur_make(opts, len);
    opt_t o;
    while (next_opt(&c, r->big, &o)) {
        if (o.code != 1)
            continue;
        sift_file_notes_t *n = &r->notes;
        if (n->ncomments < SIFT_NOTES_COMMENTS) {
            sift_packet_comment_t *pc = &n->comments[n->ncomments++];
            pc->packet = r->records + 1; /* numbered before it is returned */
            pc->text[0] = '\0';
            note_text(pc->text, o.v, o.len);
        }
        n->comments_total++;
    }
}

void sift_file_notes_release(sift_file_notes_t *n)
{
    free(n->sections);
    free(n->ifaces);
    memset(n, 0, sizeof *n);
}

int sift_file_notes_copy(sift_file_notes_t *dst, const sift_file_notes_t *src)
{
    sift_file_notes_release(dst);
    *dst = *src;
    dst->sections = NULL;
    dst->ifaces = NULL;
    if ((src->nsections && !(dst->sections = malloc(src->nsections * sizeof *dst->sections))) ||
        (src->nifaces && !(dst->ifaces = malloc(src->nifaces * sizeof *dst->ifaces)))) {
        sift_file_notes_release(dst);
        return SIFT_ENOMEM;
    }
    if (src->nsections)
        memcpy(dst->sections, src->sections, src->nsections * sizeof *dst->sections);
    if (src->nifaces)
        memcpy(dst->ifaces, src->ifaces, src->nifaces * sizeof *dst->ifaces);
    return 0;
}

const sift_file_notes_t *sift_reader_notes(const sift_reader_t *r)
{
    return &r->notes;
}

/* Metadata rows as columns and values: the fields of each protocol (capsift/metapass.h) for
 * `capsift meta`'s rows and for the metadata `capsift flows --json` gives each flow. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

void cli_meta_cols_init(cli_meta_cols_t *m, sift_meta_proto_t p)
{
    memset(m, 0, sizeof *m);
    m->fields = sift_meta_fields(p, &m->n);
    if (m->n > CLI_META_MAX_FIELDS)
        m->n = CLI_META_MAX_FIELDS;
    for (size_t k = 0; k < m->n; k++) {
        const sift_meta_field_t *f = &m->fields[k];
        size_t j;
        for (j = 0; f->name[j] && j + 1 < sizeof m->heads[k]; j++)
            m->heads[k][j] =
                (char)(f->name[j] >= 'a' && f->name[j] <= 'z' ? f->name[j] - 32 : f->name[j]);
        m->heads[k][j] = '\0';
        cli_type_t t = f->type == SIFT_META_T_LIST  ? CLI_T_LIST
                       : f->type == SIFT_META_T_NUM ? CLI_T_U64
                       : f->type == SIFT_META_T_ID  ? CLI_T_ID
                                                    : CLI_T_STR;
        m->cols[k] = (cli_col_t){.key = f->name, .head = m->heads[k], .type = t};
    }
}

void cli_meta_values(cli_meta_cols_t *m, const sift_meta_row_t *r, cli_val_t *v)
{
    for (size_t k = 0; k < m->n; k++) {
        const sift_meta_field_t *f = &m->fields[k];
        cli_val_t *x = &v[k];
        *x = (cli_val_t){0};
        if (f->type == SIFT_META_T_STR || f->type == SIFT_META_T_LIST) {
            x->s = r->str[f->slot];
            x->null = !x->s;
            continue;
        }
        uint64_t n = r->num[f->slot];
        x->null = n == SIFT_META_NONE;
        if (f->type == SIFT_META_T_NAME) {
            x->s = x->null ? NULL : f->name_of(n);
            x->null = !x->s;
        } else if (f->type == SIFT_META_T_HEX) {
            snprintf(m->hex, sizeof m->hex, "0x%04x", (unsigned)(n & 0xffff));
            x->s = m->hex;
        } else {
            x->u = n;
        }
    }
}

void cli_meta_json(cli_json_t *j, cli_meta_cols_t m[SIFT_META_NPROTO],
                   const sift_meta_row_t *const *rows, size_t n, int digits)
{
    cli_json_open(j, "meta", '[');
    for (size_t i = 0; i < n; i++) {
        const sift_meta_row_t *r = rows[i];
        cli_meta_cols_t *c = &m[r->proto];
        cli_val_t v[CLI_META_MAX_FIELDS];
        cli_json_open(j, NULL, '{');
        cli_json_str(j, "proto", sift_meta_proto_name((sift_meta_proto_t)r->proto));
        cli_json_time(j, "ts", "time", sift_meta_row_ts(r), digits); /* as meta's rows */
        if (r->ts_ns[1] != INT64_MIN) {
            cli_json_time(j, "reply_ts", "reply_time", r->ts_ns[1], digits);
        } else {
            cli_json_null(j, "reply_ts");
            cli_json_null(j, "reply_time");
        }
        cli_meta_values(c, r, v);
        cli_json_row(j, c->cols, c->n, v);
        cli_json_close(j);
    }
    cli_json_close(j);
}

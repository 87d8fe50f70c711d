/* A Wireshark Lua dissector from signatures: the masks in labelling order and the labelling rule
 * of sift_sigmatch, written out as Lua (capsift/signature.h). */
#include "analyze/cluster_int.h"

#include <capsift/signature.h>

#include <stdlib.h>
#include <string.h>

/* s as a Lua string literal. */
static void lua_str(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p < 0x20 || *p >= 0x7f)
            fprintf(out, "\\%03u", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

static const char *field_kind(const sift_cluster_field_t *f, char *b, size_t n)
{
    switch (f->kind) {
    case SIFT_FIELD_CONSTANT:
        snprintf(b, n, "constant %02x", f->value);
        break;
    case SIFT_FIELD_VARYING:
        snprintf(b, n, "varying, %u values", f->distinct);
        break;
    case SIFT_FIELD_COUNTER:
        snprintf(b, n, "counter, %s",
                 f->width == 1 ? "1 byte"
                 : f->little   ? "little-endian"
                               : "big-endian");
        break;
    default:
        snprintf(b, n, "length %+lld, %s", (long long)f->delta,
                 f->width == 1 ? "1 byte"
                 : f->little   ? "little-endian"
                               : "big-endian");
    }
    return b;
}

/* Whether the field (offset, width) was declared already by an earlier signature. */
static bool field_seen(const sift_signatures_t *s, size_t upto, size_t within,
                       const sift_cluster_field_t *f)
{
    for (size_t i = 0; i <= upto; i++) {
        const sift_signature_t *g = sift_signatures_get(s, i);
        size_t n = i == upto ? within : g->nfields;
        for (size_t k = 0; k < n; k++)
            if (g->fields[k].offset == f->offset && g->fields[k].width == f->width)
                return true;
    }
    return false;
}

static bool lua_transport(uint8_t proto)
{
    return proto == 6 || proto == 17;
}

int sift_signatures_lua(const sift_signatures_t *s, double min_similarity, FILE *out)
{
    size_t n = sift_signatures_count(s);
    fprintf(out,
            "-- capsift message types: a Wireshark dissector written by capsift from %zu\n"
            "-- signatures. Run: tshark -X lua_script:THIS_FILE -r CAPTURE, or put it in\n"
            "-- Wireshark's personal Lua plugins folder. It replaces the dissectors of the\n"
            "-- ports below. A payload is labelled as capsift classify labels it: among\n"
            "-- the signatures of its transport, server port and direction that have\n"
            "-- its type byte, the one with the largest share of its constant bytes\n"
            "-- present, the first on ties, when that share reaches MIN_SIMILARITY; a\n"
            "-- later segment of a TCP message takes its message's type (see follow).\n\n",
            n);
    fputs("local proto = Proto(\"capsift\", \"capsift message types\")\n"
          "local pf_type = ProtoField.string(\"capsift.type\", \"Message type\")\n"
          "local pf_set = ProtoField.string(\"capsift.set\", \"Signature set\")\n"
          "local pf_sim = ProtoField.double(\"capsift.similarity\", \"Similarity\")\n"
          "local pf_cont = ProtoField.bool(\"capsift.continuation\",\n"
          "  \"Continues a message of this type\")\n"
          "local FIELDS = {}\n",
          out);
    for (size_t i = 0; i < n; i++) {
        const sift_signature_t *g = sift_signatures_get(s, i);
        for (size_t k = 0; k < g->nfields; k++) {
            const sift_cluster_field_t *f = &g->fields[k];
            if (field_seen(s, i, k, f))
                continue;
            char label[32];
            if (f->width == 1)
                snprintf(label, sizeof label, "Byte %u", f->offset);
            else
                snprintf(label, sizeof label, "Bytes %u-%u", f->offset, f->offset + f->width - 1);
            fprintf(out, "FIELDS[\"o%uw%u\"] = ProtoField.bytes(\"capsift.o%uw%u\", \"%s\")\n",
                    f->offset, f->width, f->offset, f->width, label);
        }
    }
    fputs("local all = {pf_type, pf_set, pf_sim, pf_cont}\n"
          "for _, f in pairs(FIELDS) do all[#all + 1] = f end\n"
          "proto.fields = all\n\n",
          out);
    fprintf(out, "local MIN_SIMILARITY = %.17g\n\n", min_similarity);
    /* the signatures by part, in labelling order: mask as offset, byte pairs */
    fputs("local SIGS = {\n", out);
    for (size_t i = 0; i < n;) {
        const sift_signature_t *g = sift_signatures_get(s, i);
        sift_cluster_part_t p = g->part;
        size_t j = i;
        bool lua = lua_transport(p.proto);
        if (lua)
            fprintf(out, "  [\"%u/%u/%u\"] = {\n", p.proto, p.port, p.dir);
        for (; j < n; j++) {
            const sift_signature_t *h = sift_signatures_get(s, j);
            if (h->part.proto != p.proto || h->part.port != p.port || h->part.dir != p.dir)
                break;
            if (!lua)
                continue;
            fputs("    {name = ", out);
            lua_str(out, h->name);
            fputs(", set = ", out);
            lua_str(out, h->set);
            fprintf(out, ", toff = %d, tval = %u,\n     mask = {", h->type_offset, h->type);
            for (uint32_t k = 0; k < h->nmask; k++)
                fprintf(out, "%s%u, %u", k ? ", " : "", h->mask[k].offset, h->mask[k].value);
            fputs("},\n     fields = {", out);
            for (uint32_t k = 0; k < h->nfields; k++) {
                char b[64];
                const sift_cluster_field_t *f = &h->fields[k];
                fprintf(out, "%s{\"o%uw%u\", %u, %u, \"%s\"}", k ? ", " : "", f->offset, f->width,
                        f->offset, f->width, field_kind(f, b, sizeof b));
            }
            fputs("}},\n", out);
        }
        if (lua)
            fputs("  },\n", out);
        i = j;
    }
    fputs("}\n\n", out);
    /* the headers of TCP parts that continuations lack: offset, then the 4 bytes */
    fputs("local HEADER = {\n", out);
    for (size_t i = 0; i < n; i++) {
        sift_cluster_part_t p = sift_signatures_get(s, i)->part;
        uint32_t off;
        uint8_t v[4];
        if (!stream_proto(p.proto) || (i > 0 && part_eq(sift_signatures_get(s, i - 1)->part, p)) ||
            !sift_signatures_header(s, p, &off, v))
            continue;
        fprintf(out, "  [\"%u/%u/%u\"] = {%u, %u, %u, %u, %u},\n", p.proto, p.port, p.dir, off,
                v[0], v[1], v[2], v[3]);
    }
    fputs("}\n\n", out);
    fputs("local SERVER = {[6] = {}, [17] = {}}\n"
          "for key in pairs(SIGS) do\n"
          "  local t, port = key:match(\"^(%d+)/(%d+)/\")\n"
          "  SERVER[tonumber(t)][tonumber(port)] = true\n"
          "end\n"
          "local TRANSPORT = {[2] = 6, [3] = 17} -- pinfo.port_type: TCP, UDP\n\n"
          "-- A TCP payload without its part's header is a later segment of a message: it\n"
          "-- takes the type of the message the payloads before it from its sender in its\n"
          "-- stream lead back to. Decided on the first pass (in order); kept for the\n"
          "-- continuations alone, as each stream's last payload is.\n"
          "local LAST, CONT = {}, {}\n"
          "local function follow(tvb, pinfo, port, key, dir, b, len, best)\n"
          "  if not (HEADER[\"6/\" .. port .. \"/0\"] or HEADER[\"6/\" .. port .. \"/1\"]) then\n"
          "    return best, false\n"
          "  end\n"
          "  local id = pinfo.number .. \":\" .. tvb:offset()\n"
          "  if pinfo.visited then\n"
          "    if CONT[id] then return CONT[id], true end\n"
          "    return best, false\n"
          "  end\n"
          "  -- the stream by its ends, client first (no field: a first pass may build no tree)\n"
          "  local c, s = tostring(pinfo.src) .. \":\" .. pinfo.src_port,\n"
          "    tostring(pinfo.dst) .. \":\" .. pinfo.dst_port\n"
          "  if dir == 1 then c, s = s, c end\n"
          "  local st, h = c .. \">\" .. s, HEADER[key]\n"
          "  local cont, chain, last = false, best, LAST[st] -- chain: the message's type\n"
          "  if h and not (h[1] + 4 <= len and b:get_index(h[1]) == h[2] and\n"
          "          b:get_index(h[1] + 1) == h[3] and b:get_index(h[1] + 2) == h[4] and\n"
          "          b:get_index(h[1] + 3) == h[5]) then\n"
          "    chain = nil\n"
          "    if last and last.dir == dir and last.chain then\n"
          "      best, cont, chain = last.chain, true, last.chain\n"
          "      CONT[id] = best\n"
          "    end\n"
          "  end\n"
          "  LAST[st] = {dir = dir, chain = chain}\n"
          "  return best, cont\n"
          "end\n\n"
          "function proto.dissector(tvb, pinfo, tree)\n"
          "  local len = tvb:len()\n"
          "  local t = TRANSPORT[pinfo.port_type]\n"
          "  if len == 0 or not t then return 0 end\n"
          "  local port, dir = pinfo.dst_port, 0\n"
          "  if not SERVER[t][port] then port, dir = pinfo.src_port, 1 end\n"
          "  local key = t .. \"/\" .. port .. \"/\" .. dir\n"
          "  local list = SIGS[key]\n"
          "  local b = tvb:range(0, len):bytes()\n"
          "  local best, bs = nil, 0\n"
          "  for _, g in ipairs(list or {}) do\n"
          "    if g.toff < 0 or (g.toff < len and b:get_index(g.toff) == g.tval) then\n"
          "      local m, hit = g.mask, 0\n"
          "      for i = 1, #m, 2 do\n"
          "        if m[i] < len and b:get_index(m[i]) == m[i + 1] then hit = hit + 1 end\n"
          "      end\n"
          "      local sim = hit / (#m / 2)\n"
          "      if best == nil or sim > bs then best, bs = g, sim end\n"
          "    end\n"
          "  end\n"
          "  if bs < MIN_SIMILARITY then best = nil end\n"
          "  local cont = false\n"
          "  if t == 6 then\n"
          "    best, cont = follow(tvb, pinfo, port, key, dir, b, len, best)\n"
          "  end\n"
          "  pinfo.cols.protocol = \"capsift\"\n"
          "  local sub = tree:add(proto, tvb())\n"
          "  if best == nil then\n"
          "    sub:append_text(\": no signature\")\n"
          "    pinfo.cols.info = \"capsift: no signature\"\n"
          "    return len\n"
          "  end\n"
          "  local name = best.name .. (cont and \" (continued)\" or \"\")\n"
          "  sub:append_text(\": \" .. name)\n"
          "  pinfo.cols.info = \"capsift: \" .. name\n"
          "  sub:add(pf_type, best.name)\n"
          "  sub:add(pf_set, best.set)\n"
          "  sub:add(pf_sim, bs)\n"
          "  sub:add(pf_cont, cont)\n"
          "  for _, f in ipairs(best.fields) do\n"
          "    if not cont and f[2] + f[3] <= len then\n"
          "      sub:add(FIELDS[f[1]], tvb(f[2], f[3])):append_text(\" (\" .. f[4] .. \")\")\n"
          "    end\n"
          "  end\n"
          "  return len\n"
          "end\n\n"
          "for t, name in pairs({[6] = \"tcp.port\", [17] = \"udp.port\"}) do\n"
          "  for port in pairs(SERVER[t]) do DissectorTable.get(name):add(port, proto) end\n"
          "end\n",
          out);
    return ferror(out) ? SIFT_EIO : 0;
}

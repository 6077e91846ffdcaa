/*
 * json.h -- the tiny bit of JSON the otr-peer harnesses need:
 * writing a string literal (with UTF-8 validation) and reading one back.
 *
 * Header-only; every function is static.  Strings are (pointer, length)
 * pairs because OTR payloads (SMP secrets, extra-key usedata) may hold NULs.
 */
#ifndef PADLOCK_HARNESS_JSON_H
#define PADLOCK_HARNESS_JSON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Length of the valid UTF-8 sequence starting at s (at most n bytes), or 0
 * if the bytes there are not valid UTF-8 (overlongs and surrogates rejected). */
static size_t json_utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len, i;
    unsigned long cp;

    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf) { len = 2; cp = c & 0x1f; }
    else if (c >= 0xe0 && c <= 0xef) { len = 3; cp = c & 0x0f; }
    else if (c >= 0xf0 && c <= 0xf4) { len = 4; cp = c & 0x07; }
    else return 0;
    if (n < len) return 0;
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)) return 0;
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return len;
}

/* Write s[0..len) as a JSON string literal.  Control characters become
 * \u00XX, valid UTF-8 passes through, invalid bytes become U+FFFD so that
 * the line stays valid JSON for strict readers. */
static void json_write_str(FILE *f, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    fputc('"', f);
    while (i < len) {
        unsigned char c = p[i];
        if (c == '"' || c == '\\') {
            fputc('\\', f);
            fputc(c, f);
            i++;
        } else if (c < 0x20) {
            fprintf(f, "\\u%04x", c);
            i++;
        } else if (c < 0x80) {
            fputc(c, f);
            i++;
        } else {
            size_t n = json_utf8_seq(p + i, len - i);
            if (n == 0) {
                fputs("\xef\xbf\xbd", f);
                i++;
            } else {
                fwrite(p + i, 1, n, f);
                i += n;
            }
        }
    }
    fputc('"', f);
}

static void json_put_utf8(char *out, size_t *o, unsigned long cp)
{
    if (cp < 0x80) {
        out[(*o)++] = (char)cp;
    } else if (cp < 0x800) {
        out[(*o)++] = (char)(0xc0 | (cp >> 6));
        out[(*o)++] = (char)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        out[(*o)++] = (char)(0xe0 | (cp >> 12));
        out[(*o)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[(*o)++] = (char)(0x80 | (cp & 0x3f));
    } else {
        out[(*o)++] = (char)(0xf0 | (cp >> 18));
        out[(*o)++] = (char)(0x80 | ((cp >> 12) & 0x3f));
        out[(*o)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[(*o)++] = (char)(0x80 | (cp & 0x3f));
    }
}

static int json_hex4(const char *s, unsigned long *v)
{
    int i;
    *v = 0;
    for (i = 0; i < 4; i++) {
        char c = s[i];
        *v <<= 4;
        if (c >= '0' && c <= '9') *v |= (unsigned long)(c - '0');
        else if (c >= 'a' && c <= 'f') *v |= (unsigned long)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') *v |= (unsigned long)(c - 'A' + 10);
        else return -1;
    }
    return 0;
}

/* Parse a JSON string literal starting at *pp (which must point at '"').
 * On success returns a malloc'd NUL-terminated buffer, stores its length
 * (NULs inside are possible) in *lenp and advances *pp past the closing
 * quote.  Returns NULL on a syntax error.  Lone surrogates become U+FFFD. */
static char *json_parse_str(const char **pp, size_t *lenp)
{
    const char *p = *pp;
    size_t cap, o = 0;
    char *out;

    if (*p != '"') return NULL;
    p++;
    cap = strlen(p) + 1;   /* decoding never grows the text */
    out = malloc(cap + 4);
    if (!out) return NULL;
    for (;;) {
        unsigned char c = (unsigned char)*p;
        if (c == '\0') goto fail;          /* unterminated */
        if (c == '"') { p++; break; }
        if (c < 0x20) goto fail;           /* raw control char */
        if (c != '\\') { out[o++] = (char)c; p++; continue; }
        p++;
        switch (*p) {
        case '"': out[o++] = '"'; p++; break;
        case '\\': out[o++] = '\\'; p++; break;
        case '/': out[o++] = '/'; p++; break;
        case 'b': out[o++] = '\b'; p++; break;
        case 'f': out[o++] = '\f'; p++; break;
        case 'n': out[o++] = '\n'; p++; break;
        case 'r': out[o++] = '\r'; p++; break;
        case 't': out[o++] = '\t'; p++; break;
        case 'u': {
            unsigned long cp, lo;
            if (json_hex4(p + 1, &cp)) goto fail;
            p += 5;
            if (cp >= 0xd800 && cp <= 0xdbff && p[0] == '\\' && p[1] == 'u'
                    && json_hex4(p + 2, &lo) == 0
                    && lo >= 0xdc00 && lo <= 0xdfff) {
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                p += 6;
            } else if (cp >= 0xd800 && cp <= 0xdfff) {
                cp = 0xfffd;
            }
            json_put_utf8(out, &o, cp);
            break;
        }
        default:
            goto fail;
        }
    }
    out[o] = '\0';
    *lenp = o;
    *pp = p;
    return out;
fail:
    free(out);
    return NULL;
}

#endif

/*
 * zeekconn.c - Zeek conn.log writer (see zeekconn.h).
 *
 * conn_state follows Zeek's base/protocols/conn/main.zeek conn_state():
 * each endpoint gets a TCP state, here inferred from the flags it sent
 * (and those its peer sent, for the handshake):
 *   INACTIVE  sent nothing          RESET   sent RST
 *   CLOSED    sent FIN (no RST)     SYN_SENT / SYN_ACK_SENT  handshake half done
 *   ESTABLISHED  both SYNs seen and this end ACKed
 *   PARTIAL   sent packets but no SYN (capture started mid-connection)
 * and the states are combined exactly as Zeek combines them.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analyzer/communityid.h"
#include "reports/escape.h"
#include "reports/flowfmt.h"
#include "reports/zeekconn.h"

struct zeekconn {
    FILE *out;                  /* where the log goes */
};

enum { F_FIN = 0x01, F_SYN = 0x02, F_RST = 0x04, F_ACK = 0x10 };

/* Endpoint states, as Zeek names them. */
enum tcp_state {
    ST_INACTIVE, ST_SYN_SENT, ST_SYN_ACK_SENT, ST_PARTIAL, ST_ESTABLISHED, ST_CLOSED, ST_RESET
};

static void
zeek_time(FILE *out, const char *tag)
{
    char buf[64];
    time_t now = time(NULL);
    struct tm tm;
    if (localtime_r(&now, &tm) && strftime(buf, sizeof(buf), "%Y-%m-%d-%H-%M-%S", &tm))
        fprintf(out, "#%s\t%s\n", tag, buf);
}

zeekconn *
zeekconn_create(FILE *out)
{
    zeekconn *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    w->out = out;
    fputs("#separator \\x09\n"
          "#set_separator\t,\n"
          "#empty_field\t(empty)\n"
          "#unset_field\t-\n"
          "#path\tconn\n", out);
    zeek_time(out, "open");
    fputs("#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\t"
          "duration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\t"
          "missed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\t"
          "tunnel_parents\n"
          "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\t"
          "count\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]\n",
          out);
    return w;
}

void
zeekconn_free(zeekconn *w)
{
    if (!w)
        return;
    zeek_time(w->out, "close");
    free(w);
}

static int
orig_state(const flow_dir *o, const flow_dir *r)
{
    if (o->pkts == 0) return ST_INACTIVE;
    if (o->tcp_flags & F_RST) return ST_RESET;
    if (o->tcp_flags & F_FIN) return ST_CLOSED;
    if (o->tcp_flags & F_SYN)
        return (r->tcp_flags & F_SYN) && (o->tcp_flags & F_ACK) ? ST_ESTABLISHED : ST_SYN_SENT;
    return ST_PARTIAL;
}

static int
resp_state(const flow_dir *o, const flow_dir *r)
{
    if (r->pkts == 0) return ST_INACTIVE;
    if (r->tcp_flags & F_RST) return ST_RESET;
    if (r->tcp_flags & F_FIN) return ST_CLOSED;
    if (r->tcp_flags & F_SYN)
        return (o->tcp_flags & F_SYN) && (o->tcp_flags & F_ACK) ? ST_ESTABLISHED : ST_SYN_ACK_SENT;
    return ST_PARTIAL;
}

const char *
zeekconn_state(const flow *f)
{
    const flow_dir *o = &f->d[0], *r = &f->d[1];
    if (f->key.proto == 17)
        return o->pkts ? (r->pkts ? "SF" : "S0") : (r->pkts ? "SHR" : "OTH");
    if (f->key.proto != 6)
        return "OTH";
    int os = orig_state(o, r), rs = resp_state(o, r);
    int o_inactive = os == ST_INACTIVE || os == ST_PARTIAL;
    int r_inactive = rs == ST_INACTIVE || rs == ST_PARTIAL;

    if (rs == ST_RESET) {
        if (os == ST_SYN_SENT || os == ST_SYN_ACK_SENT ||
            (os == ST_RESET && o->payload_bytes == 0 && r->payload_bytes == 0))
            return "REJ";
        return o_inactive ? "RSTRH" : "RSTR";
    }
    if (os == ST_RESET) {
        if (r_inactive) {
            /* Zeek: history ^S[^HAFGIQ]*R - a SYN then a RST, nothing else from orig. */
            if ((o->tcp_flags & F_SYN) && !(o->tcp_flags & (F_ACK | F_FIN)))
                return "RSTOS0";
            return "OTH";
        }
        return "RSTO";
    }
    if (rs == ST_CLOSED && os == ST_CLOSED) return "SF";
    if (os == ST_CLOSED) return r_inactive ? "SH" : "S2";
    if (rs == ST_CLOSED) return o_inactive ? "SHR" : "S3";
    if (os == ST_SYN_SENT && rs == ST_INACTIVE) return "S0";
    if (os == ST_ESTABLISHED && rs == ST_ESTABLISHED) return "S1";
    return "OTH";
}

/*
 * Zeek's A/a is a pure ACK: ACK without SYN, FIN or RST, and no payload.
 * Count one packet for each of SYN, FIN, RST and payload seen; any packet
 * beyond those with ACK on is taken as a pure ACK.
 */
static int
pure_ack(const flow_dir *d)
{
    uint64_t other = !!(d->tcp_flags & F_SYN) + !!(d->tcp_flags & F_FIN) +
                     !!(d->tcp_flags & F_RST) + (d->payload_bytes > 0);
    return (d->tcp_flags & F_ACK) && d->pkts > other;
}

const char *
zeekconn_history(const flow *f, char *buf, size_t len)
{
    const flow_dir *o = &f->d[0], *r = &f->d[1];
    char h[16];
    size_t n = 0;
    if (f->key.proto == 6) {
        uint8_t of = o->tcp_flags, rf = r->tcp_flags;
        if (of & F_SYN) h[n++] = 'S';
        if (rf & F_SYN) h[n++] = (rf & F_ACK) ? 'h' : 's';
        if (pure_ack(o)) h[n++] = 'A';
        if (o->payload_bytes) h[n++] = 'D';
        if (pure_ack(r)) h[n++] = 'a';
        if (r->payload_bytes) h[n++] = 'd';
        if (of & F_FIN) h[n++] = 'F';
        if (rf & F_FIN) h[n++] = 'f';
        if (of & F_RST) h[n++] = 'R';
        if (rf & F_RST) h[n++] = 'r';
    } else {
        if (o->pkts) h[n++] = 'D';
        if (r->pkts) h[n++] = 'd';
    }
    h[n] = '\0';
    snprintf(buf, len, "%s", h);
    return buf;
}

const char *
zeekconn_service(const char *name, int ip_proto, char *buf, size_t len)
{
    static const struct { const char *ndpi, *zeek; } map[] = {
        {"TLS", "ssl"}, {"HTTP", "http"}, {"HTTP_Connect", "http"}, {"HTTP_Proxy", "http"},
        {"DNS", "dns"}, {"SSH", "ssh"}, {"DHCP", "dhcp"}, {"SMBv1", "smb"}, {"SMBv23", "smb"},
        {"FTP_CONTROL", "ftp"}, {"FTP_DATA", "ftp-data"}, {"SMTP", "smtp"}, {"SMTPS", "smtp"},
        {"POP3", "pop3"}, {"IMAP", "imap"}, {"RDP", "rdp"}, {"DCE_RPC", "dce_rpc"},
        {"Jabber", "xmpp"}, {"Radius", "radius"}, {"MySQL", "mysql"}, {"Syslog", "syslog"},
        {"SNMP", "snmp"}, {"NTP", "ntp"}, {"SIP", "sip"}, {"IRC", "irc"}, {"MQTT", "mqtt"},
        {"LDAP", "ldap"}, {"SOCKS", "socks"}, {"Modbus", "modbus"}, {"DNP3", "dnp3"},
        {"QUIC", "quic"}, {"DTLS", "dtls"}, {"NetBIOS", "netbios"}, {"IEC60870", "iec104"},
    };
    if (!name || !*name || strcmp(name, "Unknown") == 0)
        return NULL;
    if (strcmp(name, "Kerberos") == 0)
        return ip_proto == 6 ? "krb_tcp" : "krb";
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(map[i].ndpi, name) == 0)
            return map[i].zeek;
    size_t n = 0;
    for (; name[n] && n + 1 < len; n++)
        buf[n] = (char)tolower((unsigned char)name[n]);
    buf[n] = '\0';
    return buf;
}

/* "C" + 17 base62 digits of a 128-bit mix of what identifies the flow record. */
static void
make_uid(const flow *f, char *out)
{
    static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    uint64_t h[2] = { 1469598103934665603ULL, 0x9e3779b97f4a7c15ULL };
    const uint8_t *p = (const uint8_t *)&f->key;
    for (int k = 0; k < 2; k++) {
        for (size_t i = 0; i < sizeof(f->key); i++)
            h[k] = (h[k] ^ p[i]) * 1099511628211ULL;
        h[k] ^= f->seq * 0xff51afd7ed558ccdULL + f->first_ns;
        h[k] = (h[k] ^ (h[k] >> 33)) * 0xc4ceb9fe1a85ec53ULL;
        h[k] ^= h[k] >> 29;
    }
    out[0] = 'C';
    for (int i = 1; i <= 17; i++) {
        int k = i & 1;
        out[i] = b62[h[k] % 62];
        h[k] /= 62;
    }
    out[18] = '\0';
}

static void
put_secs(FILE *out, uint64_t ns)
{
    fprintf(out, "%" PRIu64 ".%06" PRIu64, ns / 1000000000u, (ns % 1000000000u) / 1000u);
}

void
zeekconn_write(zeekconn *w, const flow *f, const zeekconn_aux *aux)
{
    FILE *out = w->out;
    const flow_dir *o = &f->d[0], *r = &f->d[1];
    char a[64], b[64], uid[20], hist[16];
    int proto = f->key.proto;
    unsigned op = flow_cport(f), rp = flow_sport(f);

    if ((proto == 1 || proto == 58) && aux && aux->has_icmp) {
        uint16_t other;
        op = aux->icmp_type;
        rp = communityid_icmp_counterpart(proto == 58, aux->icmp_type, &other) ? other : aux->icmp_code;
    } else if (proto == 1 || proto == 58) {
        op = rp = 0;
    }
    make_uid(f, uid);
    put_secs(out, f->first_ns);
    fprintf(out, "\t%s\t%s\t%u\t%s\t%u\t%s\t", uid,
            flowfmt_addr(flow_caddr(f), f->key.ip_version, a, sizeof(a)), op,
            flowfmt_addr(flow_saddr(f), f->key.ip_version, b, sizeof(b)), rp,
            proto == 6 ? "tcp" : proto == 17 ? "udp" : (proto == 1 || proto == 58) ? "icmp"
            : "unknown_transport");
    if (aux && aux->service && aux->service[0])
        esc_zeek(out, aux->service);
    else
        fputc('-', out);
    if (f->last_ns > f->first_ns) {
        fputc('\t', out);
        put_secs(out, f->last_ns - f->first_ns);
        fprintf(out, "\t%" PRIu64 "\t%" PRIu64, o->payload_bytes, r->payload_bytes);
    } else {
        fputs("\t-\t-\t-", out);
    }
    fprintf(out, "\t%s\t-\t-\t0\t", zeekconn_state(f));
    zeekconn_history(f, hist, sizeof(hist));
    if (hist[0])
        esc_zeek(out, hist);
    else
        fputc('-', out);
    fprintf(out, "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t-\n",
            o->pkts, o->ip_bytes, r->pkts, r->ip_bytes);
}

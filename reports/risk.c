/*
 * risk.c - risky flows from nDPI's flow risks, application names, ports and
 * direction (see risk.h).
 *
 * How it works: the nDPI risk bits of the edge (the OR over its flows)
 * raise the catalogue entries ndpi_map[] ties them to.  The application
 * name nDPI gave the edge is matched against small tables of protocols
 * that are risky by nature (clear-text logins, obsolete or
 * unauthenticated protocols, anonymisers); a few port-only matches catch
 * what nDPI did not name (Telnet on 23, rsh on 512-514/tcp, TFTP on
 * 69/udp).  Direction adds two judgements: administration services
 * (rules_lateral()'s list: SSH, RDP, SMB, WinRM, VNC, databases...) or
 * industrial protocols reached from the Internet are high; clear-text
 * HTTP is medium across the Internet edge and low inside.  A known
 * protocol on a port that is not one of its usual ones is low, as is an
 * unidentified protocol that got an answer.
 *
 * nDPI's bit numbers are looked up by name through dpi_risk_names() (the
 * one nDPI includer is analyzer/dpi.c), once: a risk the linked nDPI
 * does not name is never raised, and tests/check_report.c checks every
 * name resolves to nDPI 4.2's ndpi_risk_enum value.
 */
#include <pthread.h>
#include <string.h>
#include <strings.h>

#include "analyzer/dpi.h"
#include "recommender/rules.h"
#include "reports/risk.h"

/* The catalogue, worst first: within a severity, this order is the order of a row's risks. */
enum {
    /* high */
    R_TELNET, R_FTP, R_CREDS, R_SMBV1, R_RSH, R_EXPLOIT, R_WEBATTACK, R_BADJA3, R_BADCERT, R_DGA,
    R_ADMIN_INET, R_ICS_INET, R_TOR, R_MINING,
    /* medium */
    R_OLDTLS, R_WEAKTLS, R_OLDSSH, R_TLSCERT, R_BLOCKLIST, R_BINARY, R_HTTP_SUSP, R_ICS, R_TFTP,
    R_VNC, R_RAT, R_DESKTOP, R_MAIL, R_HTTP_INET, R_SNMP,
    /* low */
    R_HTTP, R_LDAP, R_NONSTD, R_UNKNOWN, R_P2P, R_UNSAFE, R_TLS_ANOMALY, R_DNS_ANOMALY, R_ANOMALY,
    R_COUNT
};

static const risk_def catalogue[R_COUNT] = {
    [R_TELNET] = {"telnet", RISK_HIGH, "Telnet (clear-text login)",
                  "Passwords and whole sessions cross the network unencrypted."},
    [R_FTP] = {"ftp", RISK_HIGH, "FTP (clear-text credentials)",
               "FTP sends user names and passwords unencrypted."},
    [R_CREDS] = {"cleartext-credentials", RISK_HIGH, "Clear-text credentials seen",
                 "nDPI saw a user name and password sent unencrypted (FTP, POP3, IMAP, HTTP basic "
                 "auth...): anyone on the path can reuse them."},
    [R_SMBV1] = {"smbv1", RISK_HIGH, "SMBv1 (obsolete)",
                 "SMBv1 is deprecated and the vector of EternalBlue/WannaCry."},
    [R_RSH] = {"rsh", RISK_HIGH, "rsh/rlogin/rexec",
               "Clear-text remote shells that trust source addresses."},
    [R_EXPLOIT] = {"exploit", RISK_HIGH, "Possible exploit",
                   "nDPI matched an exploit attempt (such as Log4Shell) in the traffic."},
    [R_WEBATTACK] = {"web-attack", RISK_HIGH, "Web attack in a URL (SQL injection, XSS, RCE)",
                     "A request carried an injection attempt: the server may be probed or compromised."},
    [R_BADJA3] = {"malicious-ja3", RISK_HIGH, "Known-bad TLS fingerprint (JA3)",
                  "The TLS client or server fingerprint is on the JA3 block list (malware, attack tools)."},
    [R_BADCERT] = {"malicious-certificate", RISK_HIGH, "Known-bad TLS certificate (SHA-1)",
                   "The server's certificate is on the SHA-1 block list (malware command and control)."},
    [R_DGA] = {"dga-domain", RISK_HIGH, "Algorithmically generated domain (DGA)",
               "Random-looking domain names are how malware finds its command and control servers."},
    [R_ADMIN_INET] = {"admin-from-internet", RISK_HIGH, "Administration reachable from the Internet",
                      "An Internet host opened an administration or lateral-movement service "
                      "(SSH, RDP, SMB, WinRM, VNC, a database) on an internal host."},
    [R_ICS_INET] = {"ics-from-internet", RISK_HIGH, "Industrial protocol from the Internet",
                    "A controller speaking an unauthenticated industrial protocol was reached from the Internet."},
    [R_TOR] = {"tor", RISK_HIGH, "Tor",
               "Anonymised traffic: data exfiltration or command and control are hidden in it."},
    [R_MINING] = {"mining", RISK_HIGH, "Cryptocurrency mining",
                  "Mining traffic usually means a compromised or misused host."},
    [R_OLDTLS] = {"obsolete-tls", RISK_MEDIUM, "Obsolete TLS (1.1 or older)",
                  "SSL 3.0, TLS 1.0 and 1.1 have known attacks (POODLE, BEAST) and are deprecated."},
    [R_WEAKTLS] = {"weak-tls-cipher", RISK_MEDIUM, "Weak TLS cipher",
                   "A cipher suite without forward secrecy or with a broken algorithm (RC4, 3DES, "
                   "export) protects the session."},
    [R_OLDSSH] = {"obsolete-ssh", RISK_MEDIUM, "Obsolete SSH version or cipher",
                  "An old SSH client or server, or a weak algorithm, with known vulnerabilities."},
    [R_TLSCERT] = {"bad-certificate", RISK_MEDIUM, "Self-signed, expired or mismatched certificate",
                   "Clients cannot authenticate the server, so a man in the middle goes unnoticed."},
    [R_BLOCKLIST] = {"risky-domain", RISK_MEDIUM, "Domain or network on a risk list",
                     "The server's name or AS is on nDPI's list of risky domains or networks."},
    [R_BINARY] = {"binary-transfer", RISK_MEDIUM, "Executable downloaded",
                  "A program was transferred over HTTP: a common way malware arrives."},
    [R_HTTP_SUSP] = {"suspicious-http", RISK_MEDIUM, "Suspicious HTTP request",
                     "Unusual user agent, URL, header or content: scanners, malware or tunnelling."},
    [R_ICS] = {"ics", RISK_MEDIUM, "Industrial protocol (no authentication)",
               "Modbus, DNP3, IEC 104, S7, BACnet or EtherNet/IP: any host that reaches the "
               "controller can command it."},
    [R_TFTP] = {"tftp", RISK_MEDIUM, "TFTP (no authentication)",
                "Anyone who reaches the server reads or writes files (often device configurations)."},
    [R_VNC] = {"vnc", RISK_MEDIUM, "VNC",
               "Remote desktop with weak authentication and often no encryption."},
    [R_RAT] = {"remote-access-tool", RISK_MEDIUM, "Remote access tool",
               "AnyDesk or TeamViewer bypass the perimeter; check they are sanctioned."},
    [R_DESKTOP] = {"desktop-sharing", RISK_MEDIUM, "Remote desktop or file sharing session",
                   "nDPI saw a remote-control or file-sharing session: check it is sanctioned."},
    [R_MAIL] = {"cleartext-mail", RISK_MEDIUM, "POP3/IMAP without TLS",
                "Mailbox passwords are readable on the wire."},
    [R_HTTP_INET] = {"http-internet", RISK_MEDIUM, "Clear-text HTTP over the Internet",
                     "Sessions, cookies and basic-auth credentials are readable by anyone on the path."},
    [R_SNMP] = {"snmp-community", RISK_MEDIUM, "SNMP v1/v2c",
                "Community strings (the password) travel in clear; write access reconfigures devices."},
    [R_HTTP] = {"http-cleartext", RISK_LOW, "Clear-text HTTP (internal)",
                "Sessions and basic-auth credentials are readable on the internal network."},
    [R_LDAP] = {"ldap-cleartext", RISK_LOW, "LDAP without TLS",
                "Simple binds on 389 would expose passwords; prefer LDAPS or signing."},
    [R_NONSTD] = {"unusual-port", RISK_LOW, "Known protocol on an unusual port",
                  "A service on a port other than its usual ones evades port-based rules and monitoring."},
    [R_UNKNOWN] = {"unidentified", RISK_LOW, "Unidentified protocol",
                   "The application protocol was not recognised although the server answered."},
    [R_P2P] = {"p2p", RISK_LOW, "Peer-to-peer file sharing",
               "BitTorrent and similar: data leaks and unlicensed content."},
    [R_UNSAFE] = {"unsafe-protocol", RISK_LOW, "Protocol nDPI rates unsafe",
                  "A protocol without encryption or authentication worth having (nDPI's judgement)."},
    [R_TLS_ANOMALY] = {"tls-anomaly", RISK_LOW, "TLS anomaly",
                       "Missing SNI, TLS not carrying HTTPS, unusual ALPN or extensions, fatal alerts, "
                       "certificates valid too long or about to expire: worth a look."},
    [R_DNS_ANOMALY] = {"dns-anomaly", RISK_LOW, "Unusual DNS traffic",
                       "Suspicious, oversized or fragmented DNS messages: possible tunnelling or amplification."},
    [R_ANOMALY] = {"protocol-anomaly", RISK_LOW, "Protocol anomaly",
                   "Malformed packets, non-printable text, high-entropy payloads or HTTP to a numeric "
                   "address: evasion, tunnelling or broken software."},
};

/*
 * nDPI's risks (named as ndpi_risk2str() of nDPI 4.2 names them) and the
 * catalogue entry each raises.  Every risk nDPI 4.2 has is here, so a new
 * bit is a decision, not an oversight (the tests check the list is whole).
 */
static const struct {
    const char *name;           /* nDPI's name of the risk */
    int risk;                   /* catalogue index */
} ndpi_map[] = {
    {"XSS Attack", R_WEBATTACK},                             /* NDPI_URL_POSSIBLE_XSS */
    {"SQL Injection", R_WEBATTACK},                          /* NDPI_URL_POSSIBLE_SQL_INJECTION */
    {"RCE Injection", R_WEBATTACK},                          /* NDPI_URL_POSSIBLE_RCE_INJECTION */
    {"Binary Application Transfer", R_BINARY},               /* NDPI_BINARY_APPLICATION_TRANSFER */
    {"Known Protocol on Non Standard Port", R_NONSTD},       /* NDPI_KNOWN_PROTOCOL_ON_NON_STANDARD_PORT */
    {"Self-signed Certificate", R_TLSCERT},                  /* NDPI_TLS_SELFSIGNED_CERTIFICATE */
    {"Obsolete TLS Version (1.1 or older)", R_OLDTLS},       /* NDPI_TLS_OBSOLETE_VERSION */
    {"Weak TLS Cipher", R_WEAKTLS},                          /* NDPI_TLS_WEAK_CIPHER */
    {"TLS Expired Certificate", R_TLSCERT},                  /* NDPI_TLS_CERTIFICATE_EXPIRED */
    {"TLS Certificate Mismatch", R_TLSCERT},                 /* NDPI_TLS_CERTIFICATE_MISMATCH */
    {"HTTP Suspicious User-Agent", R_HTTP_SUSP},             /* NDPI_HTTP_SUSPICIOUS_USER_AGENT */
    {"HTTP Numeric IP Address", R_ANOMALY},                  /* NDPI_HTTP_NUMERIC_IP_HOST */
    {"HTTP Suspicious URL", R_HTTP_SUSP},                    /* NDPI_HTTP_SUSPICIOUS_URL */
    {"HTTP Suspicious Header", R_HTTP_SUSP},                 /* NDPI_HTTP_SUSPICIOUS_HEADER */
    {"TLS (probably) Not Carrying HTTPS", R_TLS_ANOMALY},    /* NDPI_TLS_NOT_CARRYING_HTTPS */
    {"Suspicious DGA Domain name", R_DGA},                   /* NDPI_SUSPICIOUS_DGA_DOMAIN */
    {"Malformed Packet", R_ANOMALY},                         /* NDPI_MALFORMED_PACKET */
    {"SSH Obsolete Client Version/Cipher", R_OLDSSH},        /* NDPI_SSH_OBSOLETE_CLIENT_VERSION_OR_CIPHER */
    {"SSH Obsolete Server Version/Cipher", R_OLDSSH},        /* NDPI_SSH_OBSOLETE_SERVER_VERSION_OR_CIPHER */
    {"SMB Insecure Version", R_SMBV1},                       /* NDPI_SMB_INSECURE_VERSION */
    {"TLS Suspicious ESNI Usage", R_TLS_ANOMALY},            /* NDPI_TLS_SUSPICIOUS_ESNI_USAGE */
    {"Unsafe Protocol", R_UNSAFE},                           /* NDPI_UNSAFE_PROTOCOL */
    {"Suspicious DNS Traffic", R_DNS_ANOMALY},               /* NDPI_DNS_SUSPICIOUS_TRAFFIC */
    {"Missing SNI TLS Extension", R_TLS_ANOMALY},            /* NDPI_TLS_MISSING_SNI */
    {"HTTP Suspicious Content", R_HTTP_SUSP},                /* NDPI_HTTP_SUSPICIOUS_CONTENT */
    {"Risky ASN", R_BLOCKLIST},                              /* NDPI_RISKY_ASN */
    {"Risky Domain Name", R_BLOCKLIST},                      /* NDPI_RISKY_DOMAIN */
    {"Possibly Malicious JA3 Fingerprint", R_BADJA3},        /* NDPI_MALICIOUS_JA3 */
    {"Possibly Malicious SSL Cert. SHA1 Fingerprint", R_BADCERT}, /* NDPI_MALICIOUS_SHA1_CERTIFICATE */
    {"Desktop/File Sharing Session", R_DESKTOP},             /* NDPI_DESKTOP_OR_FILE_SHARING_SESSION */
    {"Uncommon TLS ALPN", R_TLS_ANOMALY},                    /* NDPI_TLS_UNCOMMON_ALPN */
    {"TLS Certificate Validity Too Long", R_TLS_ANOMALY},    /* NDPI_TLS_CERT_VALIDITY_TOO_LONG */
    {"TLS Suspicious Extension", R_TLS_ANOMALY},             /* NDPI_TLS_SUSPICIOUS_EXTENSION */
    {"TLS Fatal Alert", R_TLS_ANOMALY},                      /* NDPI_TLS_FATAL_ALERT */
    {"Suspicious Entropy", R_ANOMALY},                       /* NDPI_SUSPICIOUS_ENTROPY */
    {"Clear-Text Credentials", R_CREDS},                     /* NDPI_CLEAR_TEXT_CREDENTIALS */
    {"DNS Packet Larger Than 512 bytes", R_DNS_ANOMALY},     /* NDPI_DNS_LARGE_PACKET */
    {"Fragmented DNS Message", R_DNS_ANOMALY},               /* NDPI_DNS_FRAGMENTED */
    {"Text Contains Non-Printable Characters", R_ANOMALY},   /* NDPI_INVALID_CHARACTERS */
    {"Possible Exploit Detected", R_EXPLOIT},                /* NDPI_POSSIBLE_EXPLOIT */
    {"TLS Certificate About To Expire", R_TLS_ANOMALY},      /* NDPI_TLS_CERTIFICATE_ABOUT_TO_EXPIRE */
};
#define N_NDPI_MAP ((int)(sizeof(ndpi_map) / sizeof(ndpi_map[0])))

/* Found once by name: the bit of each ndpi_map entry (-1 if none), the bits of each catalogue entry. */
static int ndpi_bit[N_NDPI_MAP];
static uint64_t ndpi_mask[R_COUNT];
static pthread_once_t ndpi_once = PTHREAD_ONCE_INIT;

static void
ndpi_resolve(void)
{
    char name[256];
    for (int k = 0; k < N_NDPI_MAP; k++)
        ndpi_bit[k] = -1;
    for (int b = 0; b < 64; b++) {
        if (!*dpi_risk_names(1ULL << b, name, sizeof(name)))
            continue;
        for (int k = 0; k < N_NDPI_MAP; k++)
            if (ndpi_bit[k] < 0 && strcmp(name, ndpi_map[k].name) == 0) {
                ndpi_bit[k] = b;
                ndpi_mask[ndpi_map[k].risk] |= 1ULL << b;
                break;
            }
    }
}

int
risk_ndpi_count(void)
{
    return N_NDPI_MAP;
}

int
risk_ndpi_entry(int k, const char **name, int *risk)
{
    if (k < 0 || k >= N_NDPI_MAP)
        return -1;
    pthread_once(&ndpi_once, ndpi_resolve);
    if (name)
        *name = ndpi_map[k].name;
    if (risk)
        *risk = ndpi_map[k].risk;
    return ndpi_bit[k];
}

int
risk_count(void)
{
    return R_COUNT;
}

const risk_def *
risk_get(int i)
{
    return i >= 0 && i < R_COUNT ? &catalogue[i] : NULL;
}

const char *
risk_sev_name(int sev)
{
    return sev >= RISK_HIGH ? "high" : sev == RISK_MEDIUM ? "medium" : "low";
}

const char *
risk_not_assessed(void)
{
    return "nDPI's flow risks are known for traffic captured since the graph stored them (edges "
           "recorded by an older segscope, database schema 1, carry none); known-bad JA3 and certificate fingerprints and risky domains are "
           "flagged only if the capture loaded nDPI's lists (capture --ndpi-dir).";
}

/* Is app one of the names in list (case-insensitive)? */
static int
app_in(const char *app, const char *const *list)
{
    for (; *list; list++)
        if (strcasecmp(app, *list) == 0)
            return 1;
    return 0;
}

/* Is port one of the usual ports of a known application?  -1 if the app has no such list. */
static int
usual_port(const char *app, int proto, int port)
{
    static const struct {
        const char *app;
        int proto;
        int ports[20];              /* 0-terminated */
    } usual[] = {
        {"SSH", 6, {22, 0}},
        {"RDP", 6, {3389, 0}},
        {"Telnet", 6, {23, 0}},
        {"FTP_CONTROL", 6, {21, 0}},
        {"SMBv23", 6, {445, 139, 0}},
        {"SMBv1", 6, {445, 139, 0}},
        {"DNS", 17, {53, 5353, 5355, 0}},
        {"DNS", 6, {53, 0}},
        {"TLS", 6, {443, 8443, 993, 995, 465, 636, 853, 990, 992, 994, 3269, 4443, 5061, 5986, 8883,
                    9443, 10443, 0}},
        {"HTTP", 6, {80, 8080, 8000, 8008, 8081, 8088, 8888, 3128, 631, 5985, 9090, 0}},
        {"LDAP", 6, {389, 3268, 0}},
        {"LDAP", 17, {389, 0}},
        {"Kerberos", 6, {88, 0}},
        {"Kerberos", 17, {88, 0}},
        {"MySQL", 6, {3306, 0}},
        {"PostgreSQL", 6, {5432, 0}},
        {"MsSQL-TDS", 6, {1433, 0}},
    };
    int known = 0;
    for (size_t i = 0; i < sizeof(usual) / sizeof(usual[0]); i++) {
        if (strcasecmp(app, usual[i].app) != 0)
            continue;
        known = 1;
        if (usual[i].proto != proto)
            continue;
        for (const int *p = usual[i].ports; *p; p++)
            if (*p == port)
                return 1;
    }
    return known ? 0 : -1;
}

int
risk_classify(const risk_edge *e, int out[RISK_MAX_PER_EDGE])
{
    static const char *const ics[] = { "Modbus", "DNP3", "IEC60870", "S7Comm", "S7CommPlus", "BACnet",
                                       "EthernetIP", "EtherNet/IP", "Profinet", "PROFINET_IO", "IEC61850",
                                       "OPC-UA", "Fins", NULL };
    static const char *const mail[] = { "POP3", "IMAP", NULL };
    static const char *const rat[] = { "AnyDesk", "TeamViewer", NULL };
    static const char *const p2p[] = { "BitTorrent", "eDonkey", "Gnutella", NULL };
    const char *app = e->app && *e->app ? e->app : "Unknown";
    int unknown = strcasecmp(app, "Unknown") == 0;
    int tcp = e->proto == 6, udp = e->proto == 17;
    int from_inet = !e->client_internal && e->server_internal;
    int across = e->client_internal != e->server_internal;
    unsigned char hit[R_COUNT] = { 0 };

    if (e->ndpi_risk) {
        pthread_once(&ndpi_once, ndpi_resolve);
        for (int r = 0; r < R_COUNT; r++)
            if (e->ndpi_risk & ndpi_mask[r])
                hit[r] = 1;
    }
    if (strcasecmp(app, "Telnet") == 0 || (unknown && tcp && e->port == 23))
        hit[R_TELNET] = 1;
    if (strcasecmp(app, "FTP_CONTROL") == 0 || strcasecmp(app, "FTP") == 0 || (unknown && tcp && e->port == 21))
        hit[R_FTP] = 1;
    if (strcasecmp(app, "SMBv1") == 0)
        hit[R_SMBV1] = 1;
    if (tcp && e->port >= 512 && e->port <= 514 && (unknown || strncasecmp(app, "Rsh", 3) == 0 ||
                                                     strcasecmp(app, "Rlogin") == 0))
        hit[R_RSH] = 1;
    if (from_inet && (tcp || udp) && rules_lateral(e->proto, e->port, e->port) && e->bytes_s2c)
        hit[R_ADMIN_INET] = 1;
    if (app_in(app, ics))
        hit[from_inet ? R_ICS_INET : R_ICS] = 1;
    if (strcasecmp(app, "Tor") == 0)
        hit[R_TOR] = 1;
    if (strcasecmp(app, "Mining") == 0)
        hit[R_MINING] = 1;
    if (app_in(app, mail))
        hit[R_MAIL] = 1;
    if (strcasecmp(app, "SNMP") == 0 || (unknown && udp && (e->port == 161 || e->port == 162)))
        hit[R_SNMP] = 1;
    if (strcasecmp(app, "TFTP") == 0 || (unknown && udp && e->port == 69))
        hit[R_TFTP] = 1;
    if (strcasecmp(app, "VNC") == 0 || (unknown && tcp && e->port >= 5900 && e->port <= 5909))
        hit[R_VNC] = 1;
    if (app_in(app, rat))
        hit[R_RAT] = 1;
    if (strncasecmp(app, "HTTP", 4) == 0 && strcasecmp(app, "HTTP_Proxy") != 0)
        hit[across ? R_HTTP_INET : R_HTTP] = 1;
    if (strcasecmp(app, "LDAP") == 0 && tcp)
        hit[R_LDAP] = 1;
    if (!unknown && (tcp || udp) && usual_port(app, e->proto, e->port) == 0)
        hit[R_NONSTD] = 1;
    if (unknown && (tcp || udp) && e->bytes_s2c)
        hit[R_UNKNOWN] = 1;
    if (app_in(app, p2p))
        hit[R_P2P] = 1;

    /* worst first, catalogue order within a severity; the worst RISK_MAX_PER_EDGE */
    int n = 0;
    for (int sev = RISK_HIGH; sev >= RISK_LOW; sev--)
        for (int r = 0; r < R_COUNT && n < RISK_MAX_PER_EDGE; r++)
            if (hit[r] && catalogue[r].sev == sev)
                out[n++] = r;
    return n;
}

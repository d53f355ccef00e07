/*
 * risk.c - risky flows from application names, ports and direction (see risk.h).
 *
 * How it works: the application name nDPI gave the edge is matched
 * against small tables of protocols that are risky by nature (clear-text
 * logins, obsolete or unauthenticated protocols, anonymisers); a few
 * port-only matches catch what nDPI did not name (Telnet on 23, rsh on
 * 512-514/tcp, TFTP on 69/udp).  Direction adds two judgements:
 * administration services (rules_lateral()'s list: SSH, RDP, SMB, WinRM,
 * VNC, databases...) or industrial protocols reached from the Internet
 * are high; clear-text HTTP is medium across the Internet edge and low
 * inside.  A known protocol on a port that is not one of its usual ones
 * is low, as is an unidentified protocol that got an answer.
 */
#include <string.h>
#include <strings.h>

#include "recommender/rules.h"
#include "reports/risk.h"

enum {
    R_TELNET, R_FTP, R_SMBV1, R_RSH, R_ADMIN_INET, R_ICS_INET, R_TOR, R_MINING,
    R_ICS, R_TFTP, R_VNC, R_RAT, R_MAIL, R_HTTP_INET, R_SNMP,
    R_HTTP, R_LDAP, R_NONSTD, R_UNKNOWN, R_P2P, R_COUNT
};

static const risk_def catalogue[R_COUNT] = {
    [R_TELNET] = {"telnet", RISK_HIGH, "Telnet (clear-text login)",
                  "Passwords and whole sessions cross the network unencrypted."},
    [R_FTP] = {"ftp", RISK_HIGH, "FTP (clear-text credentials)",
               "FTP sends user names and passwords unencrypted."},
    [R_SMBV1] = {"smbv1", RISK_HIGH, "SMBv1 (obsolete)",
                 "SMBv1 is deprecated and the vector of EternalBlue/WannaCry."},
    [R_RSH] = {"rsh", RISK_HIGH, "rsh/rlogin/rexec",
               "Clear-text remote shells that trust source addresses."},
    [R_ADMIN_INET] = {"admin-from-internet", RISK_HIGH, "Administration reachable from the Internet",
                      "An Internet host opened an administration or lateral-movement service "
                      "(SSH, RDP, SMB, WinRM, VNC, a database) on an internal host."},
    [R_ICS_INET] = {"ics-from-internet", RISK_HIGH, "Industrial protocol from the Internet",
                    "A controller speaking an unauthenticated industrial protocol was reached from the Internet."},
    [R_TOR] = {"tor", RISK_HIGH, "Tor",
               "Anonymised traffic: data exfiltration or command and control are hidden in it."},
    [R_MINING] = {"mining", RISK_HIGH, "Cryptocurrency mining",
                  "Mining traffic usually means a compromised or misused host."},
    [R_MAIL] = {"cleartext-mail", RISK_MEDIUM, "POP3/IMAP without TLS",
                "Mailbox passwords are readable on the wire."},
    [R_SNMP] = {"snmp-community", RISK_MEDIUM, "SNMP v1/v2c",
                "Community strings (the password) travel in clear; write access reconfigures devices."},
    [R_TFTP] = {"tftp", RISK_MEDIUM, "TFTP (no authentication)",
                "Anyone who reaches the server reads or writes files (often device configurations)."},
    [R_VNC] = {"vnc", RISK_MEDIUM, "VNC",
               "Remote desktop with weak authentication and often no encryption."},
    [R_ICS] = {"ics", RISK_MEDIUM, "Industrial protocol (no authentication)",
               "Modbus, DNP3, IEC 104, S7, BACnet or EtherNet/IP: any host that reaches the "
               "controller can command it."},
    [R_RAT] = {"remote-access-tool", RISK_MEDIUM, "Remote access tool",
               "AnyDesk or TeamViewer bypass the perimeter; check they are sanctioned."},
    [R_HTTP_INET] = {"http-internet", RISK_MEDIUM, "Clear-text HTTP over the Internet",
                     "Sessions, cookies and basic-auth credentials are readable by anyone on the path."},
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
};

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
    return "Not assessed: obsolete TLS/SSH versions, known-bad JA3 fingerprints and nDPI's per-flow "
           "risks (the graph database does not store them per edge).";
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

static void
add(int *out, int *n, int r)
{
    for (int i = 0; i < *n; i++)
        if (out[i] == r)
            return;
    if (*n < RISK_MAX_PER_EDGE)
        out[(*n)++] = r;
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
    int n = 0;

    if (strcasecmp(app, "Telnet") == 0 || (unknown && tcp && e->port == 23))
        add(out, &n, R_TELNET);
    if (strcasecmp(app, "FTP_CONTROL") == 0 || strcasecmp(app, "FTP") == 0 || (unknown && tcp && e->port == 21))
        add(out, &n, R_FTP);
    if (strcasecmp(app, "SMBv1") == 0)
        add(out, &n, R_SMBV1);
    if (tcp && e->port >= 512 && e->port <= 514 && (unknown || strncasecmp(app, "Rsh", 3) == 0 ||
                                                     strcasecmp(app, "Rlogin") == 0))
        add(out, &n, R_RSH);
    if (from_inet && (tcp || udp) && rules_lateral(e->proto, e->port, e->port) && e->bytes_s2c)
        add(out, &n, R_ADMIN_INET);
    if (app_in(app, ics))
        add(out, &n, from_inet ? R_ICS_INET : R_ICS);
    if (strcasecmp(app, "Tor") == 0)
        add(out, &n, R_TOR);
    if (strcasecmp(app, "Mining") == 0)
        add(out, &n, R_MINING);
    if (app_in(app, mail))
        add(out, &n, R_MAIL);
    if (strcasecmp(app, "SNMP") == 0 || (unknown && udp && (e->port == 161 || e->port == 162)))
        add(out, &n, R_SNMP);
    if (strcasecmp(app, "TFTP") == 0 || (unknown && udp && e->port == 69))
        add(out, &n, R_TFTP);
    if (strcasecmp(app, "VNC") == 0 || (unknown && tcp && e->port >= 5900 && e->port <= 5909))
        add(out, &n, R_VNC);
    if (app_in(app, rat))
        add(out, &n, R_RAT);
    if (strncasecmp(app, "HTTP", 4) == 0 && strcasecmp(app, "HTTP_Proxy") != 0)
        add(out, &n, across ? R_HTTP_INET : R_HTTP);
    if (strcasecmp(app, "LDAP") == 0 && tcp)
        add(out, &n, R_LDAP);
    if (!unknown && (tcp || udp) && usual_port(app, e->proto, e->port) == 0)
        add(out, &n, R_NONSTD);
    if (unknown && (tcp || udp) && e->bytes_s2c)
        add(out, &n, R_UNKNOWN);
    if (app_in(app, p2p))
        add(out, &n, R_P2P);

    /* worst first (stable: catalogue order within a severity) */
    for (int i = 1; i < n; i++)
        for (int k = i; k > 0 && catalogue[out[k]].sev > catalogue[out[k - 1]].sev; k--) {
            int t = out[k];
            out[k] = out[k - 1];
            out[k - 1] = t;
        }
    return n;
}

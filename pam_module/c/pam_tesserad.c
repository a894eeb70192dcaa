/*
 * pam_tesserad.so: a thin PAM client of the local tesserad daemon.
 *
 * Like SSSD's pam_sss, the module decides nothing itself: it gathers the user, the PAM
 * items and the password material, sends them over a Unix stream socket (protocol in
 * ../PROTOCOL.md) and turns the daemon's answer into a PAM return code, relaying
 * challenges through the application's conversation. Secrets are wiped after use and
 * never logged. Depends only on libpam and libc.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define PAM_SM_AUTH
#define PAM_SM_ACCOUNT
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#define PROTOCOL_VERSION "1"
#define DEFAULT_SOCKET "/run/tesserad/pam.sock"
#define DEFAULT_PROMPT "Password: "
#define DEFAULT_TIMEOUT_S 10
#define MAX_TIMEOUT_S 300
/* Largest frame either side may send; the daemon's pam.max_frame may be lower. */
#define MAX_FRAME 8192
/* Challenge rounds after the first request (multi-step challenges need a few). */
#define MAX_ROUNDS 8
#define MAX_FIELD 64

struct options {
    const char *socket_path;
    const char *realm;
    const char *prompt;
    int timeout_ms;
    int debug;
    int try_first_pass;
    int use_first_pass;
};

enum outcome { OUT_ACCEPT, OUT_REJECT, OUT_CHALLENGE, OUT_UNAVAILABLE, OUT_ERROR };

struct reply {
    enum outcome outcome;
    char message[MAX_FRAME];
    char state[MAX_FIELD];
};

/* A request under construction: key=value fields, each ended by a NUL byte. */
struct frame {
    unsigned char data[4 + MAX_FRAME];
    size_t len;
    int overflow;
};

static int parse_options(pam_handle_t *pamh, int argc, const char **argv, struct options *opt)
{
    opt->socket_path = DEFAULT_SOCKET;
    opt->realm = NULL;
    opt->prompt = DEFAULT_PROMPT;
    opt->timeout_ms = DEFAULT_TIMEOUT_S * 1000;
    opt->debug = opt->try_first_pass = opt->use_first_pass = 0;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (strncmp(arg, "socket=", 7) == 0 && arg[7] != '\0') {
            opt->socket_path = arg + 7;
        } else if (strncmp(arg, "realm=", 6) == 0) {
            opt->realm = arg[6] != '\0' ? arg + 6 : NULL;
        } else if (strncmp(arg, "prompt=", 7) == 0 && arg[7] != '\0') {
            opt->prompt = arg + 7;
        } else if (strncmp(arg, "timeout=", 8) == 0) {
            char *end = NULL;
            long seconds = strtol(arg + 8, &end, 10);
            if (end == arg + 8 || *end != '\0' || seconds < 1 || seconds > MAX_TIMEOUT_S) {
                pam_syslog(pamh, LOG_ERR, "bad option %s: timeout must be 1 to %d seconds", arg, MAX_TIMEOUT_S);
                return PAM_SERVICE_ERR;
            }
            opt->timeout_ms = (int)seconds * 1000;
        } else if (strcmp(arg, "debug") == 0) {
            opt->debug = 1;
        } else if (strcmp(arg, "try_first_pass") == 0) {
            opt->try_first_pass = 1;
        } else if (strcmp(arg, "use_first_pass") == 0) {
            opt->use_first_pass = 1;
        } else {
            /* Fail closed: an option this module does not know (e.g. nullok) must not be ignored silently. */
            pam_syslog(pamh, LOG_ERR, "unknown option %.40s", arg);
            return PAM_SERVICE_ERR;
        }
    }
    if (strlen(opt->socket_path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
        pam_syslog(pamh, LOG_ERR, "socket= path is too long");
        return PAM_SERVICE_ERR;
    }
    return PAM_SUCCESS;
}

static void frame_add(struct frame *f, const char *key, const char *value)
{
    size_t klen = strlen(key), vlen = strlen(value);
    if (f->overflow || f->len + klen + 1 + vlen + 1 > sizeof(f->data)) {
        f->overflow = 1;
        return;
    }
    memcpy(f->data + f->len, key, klen);
    f->data[f->len + klen] = '=';
    memcpy(f->data + f->len + klen + 1, value, vlen);
    f->data[f->len + klen + 1 + vlen] = '\0';
    f->len += klen + vlen + 2;
}

static void frame_seal(struct frame *f)
{
    uint32_t n = (uint32_t)(f->len - 4);
    f->data[0] = (unsigned char)(n >> 24);
    f->data[1] = (unsigned char)(n >> 16);
    f->data[2] = (unsigned char)(n >> 8);
    f->data[3] = (unsigned char)n;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for the socket until the deadline; 1 when ready, 0 on timeout or error. */
static int wait_for(int fd, short events, long long deadline)
{
    for (;;) {
        long long left = deadline - now_ms();
        if (left <= 0)
            return 0;
        struct pollfd p = { .fd = fd, .events = events, .revents = 0 };
        int rc = poll(&p, 1, (int)left);
        if (rc > 0)
            return 1;
        if (rc == 0 || errno != EINTR)
            return 0;
    }
}

/* Send (sending = 1) or receive all of buf before the deadline; 0 on success. */
static int transfer(int fd, unsigned char *buf, size_t len, long long deadline, int sending)
{
    while (len > 0) {
        if (!wait_for(fd, sending ? POLLOUT : POLLIN, deadline))
            return -1;
        /* MSG_NOSIGNAL: a daemon that went away must not SIGPIPE the application. */
        ssize_t n = sending ? send(fd, buf, len, MSG_NOSIGNAL) : recv(fd, buf, len, 0);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Decode a reply payload into r; -1 when it is not a well-formed version 1 reply. */
static int parse_reply(unsigned char *payload, size_t len, struct reply *r)
{
    int have_version = 0, have_result = 0;
    size_t pos = 0;
    r->message[0] = r->state[0] = '\0';
    if (len == 0 || payload[len - 1] != '\0')
        return -1;
    while (pos < len) {
        char *field = (char *)payload + pos;
        size_t flen = strlen(field);
        char *eq = strchr(field, '=');
        pos += flen + 1;
        if (eq == NULL)
            return -1;
        *eq = '\0';
        const char *value = eq + 1;
        if (strcmp(field, "v") == 0) {
            if (strcmp(value, PROTOCOL_VERSION) != 0)
                return -1;
            have_version = 1;
        } else if (strcmp(field, "result") == 0) {
            have_result = 1;
            if (strcmp(value, "accept") == 0)
                r->outcome = OUT_ACCEPT;
            else if (strcmp(value, "reject") == 0)
                r->outcome = OUT_REJECT;
            else if (strcmp(value, "challenge") == 0)
                r->outcome = OUT_CHALLENGE;
            else if (strcmp(value, "unavailable") == 0)
                r->outcome = OUT_UNAVAILABLE;
            else
                r->outcome = OUT_ERROR;
        } else if (strcmp(field, "message") == 0) {
            snprintf(r->message, sizeof(r->message), "%s", value);
        } else if (strcmp(field, "state") == 0) {
            if (strlen(value) >= sizeof(r->state))
                return -1;
            snprintf(r->state, sizeof(r->state), "%s", value);
        }
        /* Unknown fields are skipped: later versions of the daemon may add some. */
    }
    return have_version && have_result ? 0 : -1;
}

/* One request/reply exchange; PAM_SUCCESS with r filled, or PAM_AUTHINFO_UNAVAIL. */
static int exchange(pam_handle_t *pamh, const struct options *opt, const struct frame *request, struct reply *r)
{
    long long deadline = now_ms() + opt->timeout_ms;
    unsigned char header[4];
    unsigned char *payload = NULL;
    int rc = PAM_AUTHINFO_UNAVAIL;
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof(addr));
    addr.sun_family = AF_UNIX;
    memcpy(addr.sun_path, opt->socket_path, strlen(opt->socket_path));

    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        pam_syslog(pamh, LOG_ERR, "cannot create a socket: %m");
        return PAM_AUTHINFO_UNAVAIL;
    }
    /* A Unix socket connects at once or not at all (EAGAIN: the daemon's backlog is full). */
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
        pam_syslog(pamh, LOG_ERR, "tesserad is unreachable at %s: %m", opt->socket_path);
        goto out;
    }
    if (transfer(fd, (unsigned char *)request->data, request->len, deadline, 1) != 0
        || transfer(fd, header, 4, deadline, 0) != 0) {
        pam_syslog(pamh, LOG_ERR, "no answer from tesserad at %s within %d s", opt->socket_path, opt->timeout_ms / 1000);
        goto out;
    }
    size_t len = ((size_t)header[0] << 24) | ((size_t)header[1] << 16) | ((size_t)header[2] << 8) | header[3];
    if (len == 0 || len > MAX_FRAME) {
        pam_syslog(pamh, LOG_ERR, "tesserad sent a frame of %zu bytes", len);
        goto out;
    }
    payload = malloc(len);
    if (payload == NULL)
        goto out;
    if (transfer(fd, payload, len, deadline, 0) != 0) {
        pam_syslog(pamh, LOG_ERR, "tesserad's answer was cut short");
        goto out;
    }
    if (parse_reply(payload, len, r) != 0) {
        pam_syslog(pamh, LOG_ERR, "tesserad sent a malformed answer (protocol version " PROTOCOL_VERSION " expected)");
        goto out;
    }
    rc = PAM_SUCCESS;
out:
    free(payload);
    close(fd);
    return rc;
}

static int build_request(pam_handle_t *pamh, const struct options *opt, const char *user, const char *password,
                         const char *state, struct frame *f)
{
    const void *item;
    f->len = 4;
    f->overflow = 0;
    frame_add(f, "v", PROTOCOL_VERSION);
    frame_add(f, "op", "auth");
    frame_add(f, "user", user);
    frame_add(f, "password", password);
    static const struct { int type; const char *key; } items[] = {
        { PAM_SERVICE, "service" }, { PAM_RHOST, "rhost" }, { PAM_TTY, "tty" },
    };
    for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
        if (pam_get_item(pamh, items[i].type, &item) == PAM_SUCCESS && item != NULL)
            frame_add(f, items[i].key, (const char *)item);
    }
    if (opt->realm != NULL)
        frame_add(f, "realm", opt->realm);
    if (state != NULL)
        frame_add(f, "state", state);
    if (f->overflow)
        return -1;
    frame_seal(f);
    return 0;
}

static void wipe(struct frame *f)
{
    explicit_bzero(f->data, sizeof(f->data));
}

static void drop_secret(char **secret)
{
    if (*secret != NULL) {
        explicit_bzero(*secret, strlen(*secret));
        free(*secret);
        *secret = NULL;
    }
}

/* Ask through the conversation (echo off); the answer is malloc'd, or NULL. */
static char *ask(pam_handle_t *pamh, const char *text)
{
    char *answer = NULL;
    if (pam_prompt(pamh, PAM_PROMPT_ECHO_OFF, &answer, "%s", text) != PAM_SUCCESS)
        return NULL;
    return answer;
}

/*
 * Rounds of request and reply until the daemon accepts or rejects. ``password`` is the
 * first answer; each challenge's text becomes the next prompt.
 */
static int converse(pam_handle_t *pamh, const struct options *opt, const char *user, char *password,
                    int *rejected)
{
    struct frame *f = malloc(sizeof(*f));
    struct reply *r = malloc(sizeof(*r));
    char state[MAX_FIELD] = "";
    char *answer = NULL;
    const char *secret = password;
    int rc = PAM_AUTH_ERR;
    *rejected = 0;
    if (f == NULL || r == NULL) {
        rc = PAM_BUF_ERR;
        goto out;
    }
    for (int round = 0; round <= MAX_ROUNDS; round++) {
        if (build_request(pamh, opt, user, secret, state[0] ? state : NULL, f) != 0) {
            pam_syslog(pamh, LOG_ERR, "request for user %s is too large", user);
            rc = PAM_AUTH_ERR;
            goto out;
        }
        rc = exchange(pamh, opt, f, r);
        wipe(f);
        drop_secret(&answer);
        if (rc != PAM_SUCCESS)
            goto out;
        switch (r->outcome) {
        case OUT_ACCEPT:
            rc = PAM_SUCCESS;
            goto out;
        case OUT_REJECT:
            *rejected = 1;
            rc = PAM_AUTH_ERR;
            goto out;
        case OUT_UNAVAILABLE:
            pam_syslog(pamh, LOG_ERR, "tesserad cannot decide for user %s: %s", user, r->message);
            rc = PAM_AUTHINFO_UNAVAIL;
            goto out;
        case OUT_ERROR:
            pam_syslog(pamh, LOG_ERR, "tesserad refused the request: %s", r->message);
            rc = PAM_SERVICE_ERR;
            goto out;
        case OUT_CHALLENGE:
            if (r->state[0] == '\0') {
                pam_syslog(pamh, LOG_ERR, "tesserad sent a challenge without state");
                rc = PAM_AUTHINFO_UNAVAIL;
                goto out;
            }
            memcpy(state, r->state, sizeof(state));
            if (opt->debug)
                pam_syslog(pamh, LOG_DEBUG, "challenge for user %s", user);
            answer = ask(pamh, r->message[0] ? r->message : opt->prompt);
            if (answer == NULL) {
                rc = PAM_CONV_ERR;
                goto out;
            }
            secret = answer;
            break;
        }
    }
    pam_syslog(pamh, LOG_ERR, "more than %d challenge rounds for user %s", MAX_ROUNDS, user);
    rc = PAM_AUTH_ERR;
out:
    drop_secret(&answer);
    if (f != NULL)
        wipe(f);
    free(f);
    free(r);
    return rc;
}

PAM_EXTERN int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    struct options opt;
    const char *user = NULL;
    const void *stacked = NULL;
    char *password = NULL;
    int rejected = 0;
    (void)flags;

    int rc = parse_options(pamh, argc, argv, &opt);
    if (rc != PAM_SUCCESS)
        return rc;
    rc = pam_get_user(pamh, &user, NULL);
    if (rc != PAM_SUCCESS || user == NULL || user[0] == '\0')
        return rc == PAM_SUCCESS ? PAM_USER_UNKNOWN : rc;

    if (opt.try_first_pass || opt.use_first_pass) {
        if (pam_get_item(pamh, PAM_AUTHTOK, &stacked) != PAM_SUCCESS)
            stacked = NULL;
        if (stacked == NULL && opt.use_first_pass) {
            pam_syslog(pamh, LOG_ERR, "use_first_pass: no password from an earlier module for user %s", user);
            return PAM_AUTHTOK_RECOVERY_ERR;
        }
    }
    if (stacked != NULL) {
        password = strdup((const char *)stacked);
        if (password == NULL)
            return PAM_BUF_ERR;
        rc = converse(pamh, &opt, user, password, &rejected);
        drop_secret(&password);
        /* try_first_pass: the stacked password was not this module's; ask for ours. */
        if (!(rc == PAM_AUTH_ERR && rejected && opt.try_first_pass && !opt.use_first_pass))
            goto done;
    }
    password = ask(pamh, opt.prompt);
    if (password == NULL) {
        rc = PAM_CONV_ERR;
        goto done;
    }
    rc = converse(pamh, &opt, user, password, &rejected);
    drop_secret(&password);
done:
    if (opt.debug)
        pam_syslog(pamh, LOG_DEBUG, "user %s: %s", user, pam_strerror(pamh, rc));
    return rc;
}

PAM_EXTERN int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    (void)pamh; (void)flags; (void)argc; (void)argv;
    return PAM_SUCCESS;
}

/* Accounts (expiry, lockout) are other modules' business, as with privacyIDEA's PAM modules. */
PAM_EXTERN int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    (void)pamh; (void)flags; (void)argc; (void)argv;
    return PAM_SUCCESS;
}

/*
 * fakep11: a PKCS#11 module for hsmwatch's tests. It reports the slots, tokens, memory
 * figures, flags and failures its configuration file asks for, so that the checks can be
 * tested against figures SoftHSM cannot give (memory totals, PIN lockout flags, a token
 * clock, an init failure, a hang). It implements C_GetFunctionList, C_Initialize,
 * C_Finalize, C_GetInfo, C_GetSlotList, C_GetSlotInfo and C_GetTokenInfo; every other entry
 * of its CK_FUNCTION_LIST returns CKR_FUNCTION_NOT_SUPPORTED. See README.md for the
 * configuration format.
 *
 * Build: gcc -shared -fPIC -fvisibility=hidden -I<dir of pkcs11.h> -o fakep11.so fakep11.c
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CK_PTR *
#define CK_DEFINE_FUNCTION(returnType, name) returnType name
#define CK_DECLARE_FUNCTION(returnType, name) returnType name
#define CK_DECLARE_FUNCTION_POINTER(returnType, name) returnType(*name)
#define CK_CALLBACK_FUNCTION(returnType, name) returnType(*name)
#ifndef NULL_PTR
#define NULL_PTR 0
#endif
#include "pkcs11.h"

#define EXPORT __attribute__((visibility("default")))
#define MAX_TOKENS 16

struct token {
	CK_SLOT_ID slot;
	int present;
	CK_RV rv; /* what C_GetTokenInfo returns for this slot */
	CK_TOKEN_INFO info;
};

enum hang_at { HANG_NONE, HANG_INIT, HANG_INFO, HANG_SLOTLIST, HANG_SLOTINFO, HANG_TOKENINFO, HANG_FINALIZE };

/* The module's state: one instance per loaded copy of the library. */
static struct {
	int initialized;
	CK_RV init_rv;
	CK_VERSION cryptoki;
	char manufacturer[33], description[33];
	enum hang_at hang;
	long hang_ms; /* 0: forever */
	enum hang_at crash_at;      /* where to crash, as "crash WHERE HOW" asks */
	enum crash_how { CRASH_SEGV, CRASH_ABORT, CRASH_EXIT } crash_how;
	enum hang_at null_at;       /* the function-list entry left NULL ("null WHERE") */
	char log[4096];
	int ntokens;
	struct token tokens[MAX_TOKENS];
} st;

static void logcall(const char *what)
{
	if (!st.log[0])
		return;
	FILE *f = fopen(st.log, "a");
	if (!f)
		return;
	fprintf(f, "%s\n", what);
	fclose(f);
}

static void hang(enum hang_at where)
{
	if (st.hang != where)
		return;
	logcall("hang");
	if (st.hang_ms <= 0) {
		for (;;)
			pause(); /* forever, as a library waiting on a dead HSM may */
	}
	struct timespec ts = {st.hang_ms / 1000, (st.hang_ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* crash ends the process where the configuration asks: a segmentation fault, abort(),
 * or exit(0) from inside the library, as a broken vendor library may. */
static void crash(enum hang_at where)
{
	if (st.crash_at != where)
		return;
	logcall("crash");
	switch (st.crash_how) {
	case CRASH_SEGV:
		*(volatile int *)0 = 1;
		break;
	case CRASH_ABORT:
		abort();
	case CRASH_EXIT:
		exit(0);
	}
}

/* pad copies s into a fixed-size, blank-padded PKCS#11 string field. */
static void pad(CK_UTF8CHAR *dst, size_t n, const char *s)
{
	size_t l = strlen(s);
	memset(dst, ' ', n);
	memcpy(dst, s, l < n ? l : n);
}

/* unescape decodes %XX in place (so that values may hold spaces: %20). */
static void unescape(char *s)
{
	char *o = s;
	for (; *s; s++) {
		if (s[0] == '%' && s[1] && s[2]) {
			char hex[3] = {s[1], s[2], 0};
			*o++ = (char)strtol(hex, NULL, 16);
			s += 2;
		} else {
			*o++ = *s;
		}
	}
	*o = 0;
}

static int ulong_value(const char *v, CK_ULONG *out)
{
	char *end;
	if (!strcmp(v, "unavailable")) {
		*out = CK_UNAVAILABLE_INFORMATION;
		return 0;
	}
	if (!strcmp(v, "infinite")) {
		*out = CK_EFFECTIVELY_INFINITE;
		return 0;
	}
	errno = 0;
	*out = strtoul(v, &end, 0);
	return (errno || *end || end == v) ? -1 : 0;
}

static int version_value(const char *v, CK_VERSION *out)
{
	unsigned major, minor;
	if (sscanf(v, "%u.%u", &major, &minor) != 2 || major > 255 || minor > 255)
		return -1;
	out->major = (CK_BYTE)major;
	out->minor = (CK_BYTE)minor;
	return 0;
}

static void token_defaults(struct token *t)
{
	memset(t, 0, sizeof *t);
	t->present = 1;
	pad(t->info.label, 32, "");
	pad(t->info.manufacturerID, 32, "hsmwatch test");
	pad(t->info.model, 16, "fakep11");
	pad(t->info.serialNumber, 16, "0");
	pad(t->info.utcTime, 16, "");
	t->info.flags = CKF_TOKEN_INITIALIZED | CKF_RNG | CKF_LOGIN_REQUIRED | CKF_USER_PIN_INITIALIZED;
	t->info.ulMaxSessionCount = CK_EFFECTIVELY_INFINITE;
	t->info.ulSessionCount = 0;
	t->info.ulMaxRwSessionCount = CK_EFFECTIVELY_INFINITE;
	t->info.ulRwSessionCount = 0;
	t->info.ulMaxPinLen = 255;
	t->info.ulMinPinLen = 4;
	t->info.ulTotalPublicMemory = CK_UNAVAILABLE_INFORMATION;
	t->info.ulFreePublicMemory = CK_UNAVAILABLE_INFORMATION;
	t->info.ulTotalPrivateMemory = CK_UNAVAILABLE_INFORMATION;
	t->info.ulFreePrivateMemory = CK_UNAVAILABLE_INFORMATION;
	t->info.hardwareVersion.major = 1;
	t->info.firmwareVersion.major = 1;
}

/* token_field sets one key=value of a "token" line; -1 for an unknown key or a bad value. */
static int token_field(struct token *t, const char *k, const char *v)
{
	CK_TOKEN_INFO *i = &t->info;
	CK_ULONG n;
	struct {
		const char *name;
		CK_ULONG *dst;
	} ulongs[] = {
		{"flags", &i->flags},
		{"max_sessions", &i->ulMaxSessionCount},
		{"sessions", &i->ulSessionCount},
		{"max_rw_sessions", &i->ulMaxRwSessionCount},
		{"rw_sessions", &i->ulRwSessionCount},
		{"max_pin", &i->ulMaxPinLen},
		{"min_pin", &i->ulMinPinLen},
		{"total_public", &i->ulTotalPublicMemory},
		{"free_public", &i->ulFreePublicMemory},
		{"total_private", &i->ulTotalPrivateMemory},
		{"free_private", &i->ulFreePrivateMemory},
		{"slot", &t->slot},
		{"rv", &t->rv},
	};
	for (size_t j = 0; j < sizeof ulongs / sizeof ulongs[0]; j++) {
		if (!strcmp(k, ulongs[j].name)) {
			if (ulong_value(v, &n))
				return -1;
			*ulongs[j].dst = n;
			return 0;
		}
	}
	if (!strcmp(k, "present")) {
		if (ulong_value(v, &n))
			return -1;
		t->present = n != 0;
	} else if (!strcmp(k, "label")) {
		pad(i->label, 32, v);
	} else if (!strcmp(k, "manufacturer")) {
		pad(i->manufacturerID, 32, v);
	} else if (!strcmp(k, "model")) {
		pad(i->model, 16, v);
	} else if (!strcmp(k, "serial")) {
		pad(i->serialNumber, 16, v);
	} else if (!strcmp(k, "utc")) {
		pad(i->utcTime, 16, v);
	} else if (!strcmp(k, "hw")) {
		return version_value(v, &i->hardwareVersion);
	} else if (!strcmp(k, "fw")) {
		return version_value(v, &i->firmwareVersion);
	} else {
		return -1;
	}
	return 0;
}

static const char *config_path(char *buf, size_t n)
{
	const char *env = getenv("FAKEP11_CONFIG");
	if (env && *env)
		return env;
	Dl_info di;
	if (!dladdr((void *)&config_path, &di) || !di.dli_fname)
		return NULL;
	snprintf(buf, n, "%s.conf", di.dli_fname);
	return buf;
}

/* load reads the configuration; it returns CKR_OK, or CKR_GENERAL_ERROR after saying why. */
static CK_RV load(void)
{
	char pathbuf[4096], line[4096];
	const char *path = config_path(pathbuf, sizeof pathbuf);
	memset(&st, 0, sizeof st);
	st.cryptoki.major = 2;
	st.cryptoki.minor = 40;
	strcpy(st.manufacturer, "hsmwatch test");
	strcpy(st.description, "fakep11 test module");
	if (!path)
		return CKR_OK;
	FILE *f = fopen(path, "r");
	if (!f)
		return CKR_OK; /* no configuration: no tokens */
	for (int ln = 1; fgets(line, sizeof line, f); ln++) {
		char *save, *key;
		line[strcspn(line, "\r\n#")] = 0;
		key = strtok_r(line, " \t", &save);
		if (!key)
			continue;
		char *arg = strtok_r(NULL, " \t", &save);
		int bad = 0;
		if (!strcmp(key, "token")) {
			if (st.ntokens == MAX_TOKENS) {
				bad = 1;
			} else {
				struct token *t = &st.tokens[st.ntokens++];
				token_defaults(t);
				t->slot = (CK_SLOT_ID)(st.ntokens - 1);
				for (char *kv = arg; kv && !bad; kv = strtok_r(NULL, " \t", &save)) {
					char *eq = strchr(kv, '=');
					if (!eq) {
						bad = 1;
						break;
					}
					*eq = 0;
					unescape(eq + 1);
					bad = token_field(t, kv, eq + 1) != 0;
				}
			}
		} else if (!arg) {
			bad = 1;
		} else if (!strcmp(key, "init_rv")) {
			CK_ULONG n;
			bad = ulong_value(arg, &n) != 0;
			st.init_rv = n;
		} else if (!strcmp(key, "cryptoki")) {
			bad = version_value(arg, &st.cryptoki) != 0;
		} else if (!strcmp(key, "manufacturer")) {
			unescape(arg);
			snprintf(st.manufacturer, sizeof st.manufacturer, "%s", arg);
		} else if (!strcmp(key, "description")) {
			unescape(arg);
			snprintf(st.description, sizeof st.description, "%s", arg);
		} else if (!strcmp(key, "log")) {
			snprintf(st.log, sizeof st.log, "%s", arg);
		} else if (!strcmp(key, "crash") || !strcmp(key, "null")) {
			const char *names[] = {"", "init", "info", "slotlist", "slotinfo", "tokeninfo", "finalize"};
			enum hang_at at = HANG_NONE;
			for (int j = 1; j < 7; j++) {
				if (arg && !strcmp(arg, names[j]))
					at = (enum hang_at)j;
			}
			bad = at == HANG_NONE;
			if (!strcmp(key, "null")) {
				st.null_at = at;
			} else {
				char *how = strtok_r(NULL, " \t", &save);
				st.crash_at = at;
				if (how && !strcmp(how, "segv"))
					st.crash_how = CRASH_SEGV;
				else if (how && !strcmp(how, "abort"))
					st.crash_how = CRASH_ABORT;
				else if (how && !strcmp(how, "exit"))
					st.crash_how = CRASH_EXIT;
				else
					bad = 1;
			}
		} else if (!strcmp(key, "hang")) {
			const char *names[] = {"", "init", "info", "slotlist", "slotinfo", "tokeninfo", "finalize"};
			bad = 1;
			for (int j = 1; j < 7; j++) {
				if (!strcmp(arg, names[j])) {
					st.hang = (enum hang_at)j;
					bad = 0;
				}
			}
			char *ms = strtok_r(NULL, " \t", &save);
			if (ms)
				st.hang_ms = atol(ms);
		} else {
			bad = 1;
		}
		if (bad) {
			fprintf(stderr, "fakep11: %s:%d: cannot read this line\n", path, ln);
			fclose(f);
			return CKR_GENERAL_ERROR;
		}
	}
	fclose(f);
	return CKR_OK;
}

static struct token *find(CK_SLOT_ID slot)
{
	for (int j = 0; j < st.ntokens; j++)
		if (st.tokens[j].slot == slot)
			return &st.tokens[j];
	return NULL;
}

static CK_RV fake_Initialize(CK_VOID_PTR args)
{
	(void)args;
	if (st.initialized)
		return CKR_CRYPTOKI_ALREADY_INITIALIZED;
	char log[sizeof st.log];
	CK_RV rv = load();
	logcall("C_Initialize");
	crash(HANG_INIT);
	hang(HANG_INIT);
	if (rv != CKR_OK)
		return rv;
	if (st.init_rv != CKR_OK) {
		/* keep the log path for the destructor, forget the rest */
		memcpy(log, st.log, sizeof log);
		rv = st.init_rv;
		memset(&st, 0, sizeof st);
		memcpy(st.log, log, sizeof log);
		return rv;
	}
	st.initialized = 1;
	return CKR_OK;
}

static CK_RV fake_Finalize(CK_VOID_PTR reserved)
{
	logcall("C_Finalize");
	if (reserved)
		return CKR_ARGUMENTS_BAD;
	if (!st.initialized)
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	crash(HANG_FINALIZE);
	hang(HANG_FINALIZE);
	st.initialized = 0;
	return CKR_OK;
}

static CK_RV fake_GetInfo(CK_INFO_PTR info)
{
	logcall("C_GetInfo");
	if (!st.initialized)
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	if (!info)
		return CKR_ARGUMENTS_BAD;
	crash(HANG_INFO);
	hang(HANG_INFO);
	memset(info, 0, sizeof *info);
	info->cryptokiVersion = st.cryptoki;
	pad(info->manufacturerID, 32, st.manufacturer);
	pad(info->libraryDescription, 32, st.description);
	info->libraryVersion.major = 1;
	return CKR_OK;
}

static CK_RV fake_GetSlotList(CK_BBOOL present, CK_SLOT_ID_PTR list, CK_ULONG_PTR count)
{
	logcall("C_GetSlotList");
	if (!st.initialized)
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	if (!count)
		return CKR_ARGUMENTS_BAD;
	crash(HANG_SLOTLIST);
	hang(HANG_SLOTLIST);
	CK_ULONG n = 0;
	for (int j = 0; j < st.ntokens; j++) {
		if (present && !st.tokens[j].present)
			continue;
		if (list && n < *count)
			list[n] = st.tokens[j].slot;
		n++;
	}
	CK_RV rv = (list && n > *count) ? CKR_BUFFER_TOO_SMALL : CKR_OK;
	*count = n;
	return rv;
}

static CK_RV fake_GetSlotInfo(CK_SLOT_ID slot, CK_SLOT_INFO_PTR info)
{
	logcall("C_GetSlotInfo");
	if (!st.initialized)
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	struct token *t = find(slot);
	if (!t)
		return CKR_SLOT_ID_INVALID;
	if (!info)
		return CKR_ARGUMENTS_BAD;
	crash(HANG_SLOTINFO);
	hang(HANG_SLOTINFO);
	char desc[64];
	snprintf(desc, sizeof desc, "fakep11 slot %lu", (unsigned long)slot);
	memset(info, 0, sizeof *info);
	pad(info->slotDescription, 64, desc);
	pad(info->manufacturerID, 32, st.manufacturer);
	info->flags = CKF_HW_SLOT | (t->present ? CKF_TOKEN_PRESENT : 0);
	return CKR_OK;
}

static CK_RV fake_GetTokenInfo(CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info)
{
	char msg[64];
	snprintf(msg, sizeof msg, "C_GetTokenInfo %lu", (unsigned long)slot);
	logcall(msg);
	if (!st.initialized)
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	struct token *t = find(slot);
	if (!t)
		return CKR_SLOT_ID_INVALID;
	if (!t->present)
		return CKR_TOKEN_NOT_PRESENT;
	if (!info)
		return CKR_ARGUMENTS_BAD;
	crash(HANG_TOKENINFO);
	hang(HANG_TOKENINFO);
	if (t->rv != CKR_OK)
		return t->rv;
	*info = t->info;
	return CKR_OK;
}

static CK_RV not_supported() { return CKR_FUNCTION_NOT_SUPPORTED; }

static CK_FUNCTION_LIST functions;

EXPORT CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list)
{
	if (!list)
		return CKR_ARGUMENTS_BAD;
	if (!st.initialized)
		load(); /* for the "cryptoki" version; C_Initialize reads the file again */
	functions.version = st.cryptoki;
	/* Every entry first answers CKR_FUNCTION_NOT_SUPPORTED (pkcs11f.h lists them all)... */
#define CK_PKCS11_FUNCTION_INFO(name) functions.name = (CK_##name)not_supported;
#include "pkcs11f.h"
#undef CK_PKCS11_FUNCTION_INFO
	/* ...then the ones this module implements. */
	functions.C_GetFunctionList = C_GetFunctionList;
	functions.C_Initialize = fake_Initialize;
	functions.C_Finalize = fake_Finalize;
	functions.C_GetInfo = fake_GetInfo;
	functions.C_GetSlotList = fake_GetSlotList;
	functions.C_GetSlotInfo = fake_GetSlotInfo;
	functions.C_GetTokenInfo = fake_GetTokenInfo;
	switch (st.null_at) { /* "null WHERE": an entry the library leaves NULL */
	case HANG_INIT: functions.C_Initialize = NULL; break;
	case HANG_INFO: functions.C_GetInfo = NULL; break;
	case HANG_SLOTLIST: functions.C_GetSlotList = NULL; break;
	case HANG_SLOTINFO: functions.C_GetSlotInfo = NULL; break;
	case HANG_TOKENINFO: functions.C_GetTokenInfo = NULL; break;
	case HANG_FINALIZE: functions.C_Finalize = NULL; break;
	default: break;
	}
	*list = &functions;
	return CKR_OK;
}

/* On unload (dlclose of the last reference) the log says so: tests check the module is not leaked. */
__attribute__((destructor)) static void unloaded(void) { logcall("unload"); }

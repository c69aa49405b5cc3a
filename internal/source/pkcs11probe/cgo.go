package pkcs11probe

/*
#cgo linux LDFLAGS: -ldl
#include <dlfcn.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

// load_failure loads path again to learn why miekg/pkcs11 could not, which it does not say:
// dlerror's text, or a missing C_GetFunctionList. The caller frees the result; NULL when
// the library loads and has C_GetFunctionList after all.
static char *load_failure(const char *path) {
	dlerror();
	void *h = dlopen(path, RTLD_LAZY | RTLD_LOCAL);
	if (h == NULL) {
		const char *e = dlerror();
		return strdup(e ? e : "dlopen failed");
	}
	char *out = NULL;
	if (dlsym(h, "C_GetFunctionList") == NULL) {
		out = strdup("it has no C_GetFunctionList: not a PKCS#11 module");
	}
	dlclose(h);
	return out;
}

// function_list_version returns the version in the CK_FUNCTION_LIST of a library that is
// loaded already (RTLD_NOLOAD: no second load, no constructors run): major*256+minor, or
// -1. A CK_FUNCTION_LIST starts with its CK_VERSION, two bytes.
static int function_list_version(const char *path) {
	void *h = dlopen(path, RTLD_LAZY | RTLD_NOLOAD);
	if (h == NULL) {
		return -1;
	}
	int v = -1;
	unsigned long (*gfl)(void **) = (unsigned long (*)(void **))dlsym(h, "C_GetFunctionList");
	void *list = NULL;
	if (gfl != NULL && gfl(&list) == 0 && list != NULL) {
		const unsigned char *ver = (const unsigned char *)list;
		v = ver[0] * 256 + ver[1];
	}
	dlclose(h);
	return v;
}

// default_fatal_signals gives the signals of a crash their default action, so that a
// library that crashes the probe child kills it with that signal (which its parent
// reports) instead of the Go runtime turning it into exit status 2.
static void default_fatal_signals(void) {
	int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
	for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
		signal(sigs[i], SIG_DFL);
	}
}
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// functionListVersion returns the version of the loaded library's CK_FUNCTION_LIST
// ("2.20"), or "" when it cannot be read.
func functionListVersion(path string) string {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	v := int(C.function_list_version(cpath))
	if v < 0 {
		return ""
	}
	return fmt.Sprintf("%d.%d", v/256, v%256)
}

// explainLoadFailure says why dlopen or C_GetFunctionList failed for path.
func explainLoadFailure(path string) string {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	msg := C.load_failure(cpath)
	if msg == nil {
		return "it loads now but did not a moment ago; try again"
	}
	defer C.free(unsafe.Pointer(msg))
	return C.GoString(msg)
}

// defaultFatalSignals restores the default action of SIGSEGV, SIGBUS, SIGILL, SIGFPE and
// SIGABRT: only for the probe child, whose Go code cannot recover from a fault any more.
func defaultFatalSignals() { C.default_fatal_signals() }

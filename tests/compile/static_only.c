/* One file with OPENSANDBOX_STATIC: every function is private to it. */
#define OPENSANDBOX_STATIC
#define OPENSANDBOX_IMPLEMENTATION
#include "opensandbox.h"

int main(void) { return osb_version()[0] == '0' ? 0 : 1; }

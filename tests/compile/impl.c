/* The implementation unit, and main. */
#define OPENSANDBOX_IMPLEMENTATION
#include "opensandbox.h"
#include <stdio.h>

int user_a(void);
int user_b(void);

int main(void) {
    printf("%s %d %d\n", osb_version(), user_a(), user_b());
    return user_b() == 8080 ? 0 : 1;
}

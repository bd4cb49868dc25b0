/* A user translation unit: declarations only. */
#include "opensandbox.h"

int user_a(void);
int user_a(void) {
    osb_buf b;
    osb_buf_init(&b, NULL);
    osb_buf_append_str(&b, osb_version());
    osb_buf_free(&b);
    return (int)osb_strerror(OSB_ERR_TIMEOUT)[0];
}

/* A second user translation unit, also declarations only. */
#include "opensandbox.h"

int user_b(void);
int user_b(void) {
    osb_url u;
    return osb_url_parse("http://127.0.0.1:8080/v1", 0, &u) == OSB_OK ? u.port : -1;
}

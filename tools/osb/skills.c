/* tools/osb/skills.c -- osb skills ....
 * Part of osb: built as one translation unit by main.c. */

/* >>unavailable ============================================================ */
static int c_unavailable(args *a) {
    return errorf(EX_UNAVAILABLE, "'%s' is not available in this build", a->cmd->path);
}

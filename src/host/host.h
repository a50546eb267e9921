/* The host binary ./ayac: shared between main.c (arguments, scripts, signals) and
 * repl.c (the interactive loop). */
#ifndef AYAC_HOST_H
#define AYAC_HOST_H

#include <stdbool.h>
#include <lua.h>

#define AYAC_HOST_VERSION "0.1.0"

/* Call the function below narg arguments with a traceback handler, Ctrl-C armed to
 * raise "interrupted". Returns the lua_pcall status. */
int host_docall(lua_State *L, int narg, int nres);
/* Print a failed call's message (already with traceback) on stderr; returns status. */
int host_report(lua_State *L, int status);
/* True once Ctrl-C was pressed; it stays set (a script then exits with 130) until the
 * REPL clears it after reporting the interrupted line. */
bool host_interrupted(void);
void host_clear_interrupt(void);
void host_print_version(void);

/* `ayac btf dump [file]` (btf_cmd.c): argv[1] is "btf". Returns the exit status. */
int host_btf_command(int argc, char **argv);

/* Read-eval-print loop on stdin until EOF. Prompts only on a terminal. */
void host_repl(lua_State *L);

/* Line editing on a terminal (edit.c, libedit). */
struct host_edit;
struct host_edit *host_edit_open(lua_State *L);   /* NULL: edit without it */
/* 1 and *line (malloc-ed, no newline); 0 at end of input (Ctrl-D); -1 after Ctrl-C
 * cleared the line. */
int host_edit_read(struct host_edit *e, const char *prompt, char **line);
void host_edit_remember(struct host_edit *e, const char *text); /* history, saved */
void host_edit_close(struct host_edit *e);

#endif

# signerd top-level Makefile (GNU make).
#
#	make			build every program into $(O)/bin
#	make check		install missing packages, build, run the test suite
#	make run		install missing packages, start signerd in the
#				foreground on the embedded default (run/)
#	make install DESTDIR=...
#	make SANITIZE=1 O=obj-san check	the same suite under ASan+UBSan

O		?= obj
SANITIZE	?=
PREFIX		?= /usr/local
SBINDIR		?= $(PREFIX)/sbin
LIBEXECDIR	?= $(PREFIX)/libexec/signerd
MANDIR		?= $(PREFIX)/share/man
SYSCONFDIR	?= /etc
CC		?= cc
YACC		= byacc
PKG_CONFIG	?= pkg-config

PKGS		= libbsd-overlay libevent libevent_openssl libseccomp openssl \
		  p11-kit-1 sqlite3

WARNINGS	= -Wall -Wextra -Werror -Wstrict-prototypes \
		  -Wmissing-prototypes -Wmissing-declarations -Wshadow \
		  -Wpointer-arith -Wcast-qual -Wsign-compare -Wformat=2 \
		  -Wno-unused-parameter
CFLAGS		?= -O2 -g
CFLAGS		+= -std=c11 $(WARNINGS) -D_GNU_SOURCE -fstack-protector-strong
CPPFLAGS	+= -I$(CURDIR)/shared -I$(CURDIR)/signerd -I$(O)/shared -D_FORTIFY_SOURCE=2 \
		   -DLIBEXECDIR=\"$(LIBEXECDIR)\" \
		   -DSYSCONFDIR=\"$(SYSCONFDIR)\" \
		   $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
LDLIBS		+= $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null) -ldl
# Symbols bound at start: lazy binding saves the vector registers, which
# hold whatever memcpy last moved (a client's key), on the stack.
LDFLAGS		+= -Wl,-z,relro,-z,now
ifeq ($(SANITIZE),1)
CFLAGS		+= -fsanitize=address,undefined -fno-omit-frame-pointer \
		   -fno-sanitize-recover=undefined
LDFLAGS		+= -fsanitize=address,undefined
CPPFLAGS	:= $(filter-out -D_FORTIFY_SOURCE=2,$(CPPFLAGS))
endif

BIN		= $(O)/bin

SHARED_SRCS	= shared/imsg.c shared/imsg-buffer.c shared/imsgev.c shared/log.c \
		  shared/privsep.c shared/sandbox_linux.c shared/config.c \
		  shared/tls.c shared/util.c shared/child.c shared/ttlv.c \
		  shared/kmip_names.c shared/hsmmsg.c
SHARED_OBJS	= $(SHARED_SRCS:%.c=$(O)/%.o) $(O)/shared/parse.o
LIBSHARED	= $(O)/shared/libsignerd.a

SIGNERD_SRCS	= signerd/signerd.c signerd/proc.c signerd/engine.c \
		  signerd/control.c signerd/keystore.c signerd/kmip.c \
		  signerd/kmip_ops.c signerd/kop_attr.c \
		  signerd/kop_create.c signerd/kop_crypto.c signerd/kop_get.c \
		  signerd/kop_life.c signerd/kop_locate.c signerd/kop_token.c \
		  signerd/kop_keyless.c \
		  signerd/attrs.c
CTL_SRCS	= signerd/ctl/signerctl.c
FRONTEND_SRCS	= frontend/frontend.c frontend/frame.c
HSM_SRCS	= hsmproc/hsmproc.c hsmproc/hsmreq.c hsmproc/hsm_pkcs11.c \
		  hsmproc/p11key.c hsmproc/p11pool.c hsmproc/p11kek.c \
		  hsmproc/hsm_openssl.c hsmproc/softkey.c

PROGS		= $(BIN)/signerd $(BIN)/signerctl $(BIN)/signerd-frontend \
		  $(BIN)/signerd-hsm

.DEFAULT_GOAL := all
include regress/Makefile.inc

.PHONY: all deps check run install clean fuzz
all: $(PROGS) $(REGRESS_PROGS)

$(O)/shared/parse.c: shared/parse.y
	@mkdir -p $(@D)
	$(YACC) -o $@ $<

$(O)/shared/parse.o: $(O)/shared/parse.c
	$(CC) $(CPPFLAGS) $(CFLAGS) -Wno-unused-function -Wno-sign-compare \
	    -MMD -c -o $@ $<

$(O)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -c -o $@ $<

$(LIBSHARED): $(SHARED_OBJS)
	rm -f $@
	$(AR) rcs $@ $^

$(BIN)/signerd: $(SIGNERD_SRCS:%.c=$(O)/%.o) $(LIBSHARED)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BIN)/signerctl: $(CTL_SRCS:%.c=$(O)/%.o) $(LIBSHARED)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BIN)/signerd-frontend: $(FRONTEND_SRCS:%.c=$(O)/%.o) $(LIBSHARED)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
# The pkcs11 signer serves its sessions with threads (p11pool.c).
$(BIN)/signerd-hsm: $(HSM_SRCS:%.c=$(O)/%.o) $(LIBSHARED)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -pthread -o $@ $^ $(LDLIBS)

# Objects that include the generated parser header.
$(SHARED_SRCS:%.c=$(O)/%.o): $(O)/shared/parse.c

deps:
	@sh etc/deps.sh

check: deps
	$(MAKE) all
	sh regress/run.sh $(O)

run: deps
	$(MAKE) all
	sh etc/run-local.sh $(O)

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(LIBEXECDIR) \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(SYSCONFDIR)/signerd
	install -m 555 $(BIN)/signerd $(BIN)/signerctl $(DESTDIR)$(SBINDIR)
	install -m 555 $(BIN)/signerd-frontend $(BIN)/signerd-hsm \
	    $(DESTDIR)$(LIBEXECDIR)
	install -m 444 docs/signerd.8 docs/signerctl.8 $(DESTDIR)$(MANDIR)/man8
	install -m 444 docs/signerd.conf.5 $(DESTDIR)$(MANDIR)/man5
	install -m 644 etc/signerd.conf \
	    $(DESTDIR)$(SYSCONFDIR)/signerd/signerd.conf.example
	install -d $(DESTDIR)$(PREFIX)/share/examples/signerd
	install -m 644 etc/signerd.service etc/signerd.rc \
	    $(DESTDIR)$(PREFIX)/share/examples/signerd

clean:
	rm -rf $(O)

-include $(shell find $(O) -name '*.d' 2>/dev/null)

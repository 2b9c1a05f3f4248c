# signerd top-level Makefile (GNU make).
#
#	make			build every program into $(O)/bin
#	make check		install missing packages, build, run the test suite
#	make run		install missing packages, start signerd in the
#				foreground on the embedded default (run/)
#	make install DESTDIR=...
#	make deb		a Debian package (dpkg-buildpackage), in ..
#	make SANITIZE=1 O=obj-san check	the same suite under ASan+UBSan

O		?= obj
SANITIZE	?=
PREFIX		?= /usr/local
SBINDIR		?= $(PREFIX)/sbin
LIBEXECDIR	?= $(PREFIX)/libexec/signerd
MANDIR		?= $(PREFIX)/share/man
SYSCONFDIR	?= /etc
EXAMPLEDIR	?= $(PREFIX)/share/examples/signerd
# Installed files name the directories chosen here, not /usr/local.
SUBST		= sed -e 's|/usr/local/libexec/signerd|$(LIBEXECDIR)|g' \
		      -e 's|/usr/local/sbin|$(SBINDIR)|g'
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
		  shared/kmip_names.c shared/hsmmsg.c shared/p11advice.c \
		  shared/pwhash.c
SHARED_OBJS	= $(SHARED_SRCS:%.c=$(O)/%.o) $(O)/shared/parse.o
LIBSHARED	= $(O)/shared/libsignerd.a

SIGNERD_SRCS	= signerd/signerd.c signerd/proc.c signerd/engine.c \
		  signerd/control.c signerd/keystore.c signerd/kmip.c \
		  signerd/kmip_ops.c signerd/kop_attr.c \
		  signerd/kop_create.c signerd/kop_crypto.c signerd/kop_get.c \
		  signerd/kop_life.c signerd/kop_locate.c signerd/kop_token.c \
		  signerd/kop_keyless.c signerd/kop_check.c \
		  signerd/attrs.c signerd/identity.c signerd/metrics.c \
		  signerd/policy.c signerd/audit.c
CTL_SRCS	= signerd/ctl/signerctl.c signerd/ctl/json.c signerd/ctl/grants.c \
		  signerd/ctl/audit.c signerd/audit.c
FRONTEND_SRCS	= frontend/frontend.c frontend/frame.c frontend/http.c \
		  frontend/msgenc.c frontend/textnames.c
HSM_SRCS	= hsmproc/hsmproc.c hsmproc/hsmreq.c hsmproc/hsm_pkcs11.c \
		  hsmproc/p11key.c hsmproc/p11pool.c hsmproc/p11kek.c \
		  hsmproc/hsm_openssl.c hsmproc/softkey.c hsmproc/p11token.c \
		  hsmproc/hsmident.c

PROGS		= $(BIN)/signerd $(BIN)/signerctl $(BIN)/signerd-frontend \
		  $(BIN)/signerd-hsm

.DEFAULT_GOAL := all
include regress/Makefile.inc

.PHONY: all progs deps check run install deb clean fuzz
all: $(PROGS) $(REGRESS_PROGS)
progs: $(PROGS)

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

install: $(PROGS)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(LIBEXECDIR) \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(SYSCONFDIR)/signerd
	install -m 555 $(BIN)/signerd $(BIN)/signerctl $(DESTDIR)$(SBINDIR)
	install -m 555 $(BIN)/signerd-frontend $(BIN)/signerd-hsm \
	    $(DESTDIR)$(LIBEXECDIR)
	$(SUBST) docs/signerd.8 >$(DESTDIR)$(MANDIR)/man8/signerd.8
	install -m 444 docs/signerctl.8 $(DESTDIR)$(MANDIR)/man8
	chmod 444 $(DESTDIR)$(MANDIR)/man8/signerd.8
	install -m 444 docs/signerd.conf.5 $(DESTDIR)$(MANDIR)/man5
	install -m 644 etc/signerd.conf \
	    $(DESTDIR)$(SYSCONFDIR)/signerd/signerd.conf.example
	install -d $(DESTDIR)$(EXAMPLEDIR)
	$(SUBST) etc/signerd.service >$(DESTDIR)$(EXAMPLEDIR)/signerd.service
	$(SUBST) etc/signerd.rc >$(DESTDIR)$(EXAMPLEDIR)/signerd.rc
	install -m 755 etc/kmip-demo.py $(DESTDIR)$(EXAMPLEDIR)
	chmod 644 $(DESTDIR)$(EXAMPLEDIR)/signerd.service \
	    $(DESTDIR)$(EXAMPLEDIR)/signerd.rc
	@# The keystore's directory must be _signerd's (signerd.conf(5)).
	@if [ -z "$(DESTDIR)" ] && id _signerd >/dev/null 2>&1 && \
	    [ ! -d /var/lib/signerd ]; then \
		echo install -d -o _signerd -g _signerd -m 0700 \
		    /var/lib/signerd; \
		install -d -o _signerd -g _signerd -m 0700 /var/lib/signerd; \
	fi

# A Debian package from debian/, unsigned, built in a copy of the tree so
# that the tree stays clean: $(O)/deb/signerd_*.deb.
deb:
	rm -rf $(O)/deb
	mkdir -p $(O)/deb/src
	tar -cf - --exclude=./.git --exclude='./obj*' --exclude=./run \
	    --exclude='./$(O)' . | tar -xf - -C $(O)/deb/src
	cd $(O)/deb/src && dpkg-buildpackage -b -us -uc
	@ls $(O)/deb/*.deb

clean:
	rm -rf $(O)

-include $(shell find $(O) -name '*.d' 2>/dev/null)

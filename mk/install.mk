# FerroMQ under Eclipse Paho C's names: the four Paho shared libraries and
# static archives, `make install` / `make uninstall` with headers, pkg-config
# files and the CMake package `eclipse-paho-mqtt-c`.
#
#   make paho-libs                  build target/paho/lib/* from libferromq.a
#   make install PREFIX=/usr/local DESTDIR=/tmp/stage
#   make uninstall PREFIX=/usr/local DESTDIR=/tmp/stage
#
# Included from the top-level Makefile; also usable alone with
# `make -f mk/install.mk ...`. Variables are the GNU ones (PREFIX, DESTDIR,
# bindir, libdir, includedir) so packagers can override any of them.

# Keep the including Makefile's default goal: this file's first target must
# not become it.
_install_default_goal := $(.DEFAULT_GOAL)
_install_top := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))..)

CARGO            ?= cargo
CARGO_TARGET_DIR ?= $(_install_top)/target
PREFIX           ?= /usr/local
DESTDIR          ?=
exec_prefix      ?= $(PREFIX)
bindir           ?= $(exec_prefix)/bin
libdir           ?= $(exec_prefix)/lib
includedir       ?= $(PREFIX)/include
pkgconfigdir     ?= $(libdir)/pkgconfig
cmakedir         ?= $(libdir)/cmake/eclipse-paho-mqtt-c
INSTALL          ?= install
OBJCOPY          ?= objcopy

# The Paho release whose API and ABI we provide (MQTTClient_getVersionInfo
# reports the same number).
PAHO_VERSION := 1.3.12
PAHO_SOVER   := 1
PAHO_NAMES   := paho-mqtt3c paho-mqtt3a paho-mqtt3cs paho-mqtt3as

# What a program linked statically against libferromq.a also needs (Rust's
# std: threads, unwinding, dlsym, clocks, math).
PAHO_STATIC_LIBS := gcc_s pthread dl rt m
PAHO_STATIC_DEPS := $(addprefix -l,$(PAHO_STATIC_LIBS))

_install_mk     := $(_install_top)/mk/install.mk
_install_rel    := $(CARGO_TARGET_DIR)/release
_install_out    := $(CARGO_TARGET_DIR)/paho
_install_lib    := $(_install_out)/lib
_install_map    := $(_install_out)/exports.map
_install_names  := $(_install_out)/exports.txt
_install_obj    := $(_install_out)/paho-mqtt-ferromq.o
_install_gen    := $(_install_top)/packaging/gen-exports.sh
_install_pkgdir := $(_install_top)/packaging

_install_so_full = $(_install_lib)/lib$(1).so.$(PAHO_VERSION)
_install_shared  := $(foreach n,$(PAHO_NAMES),$(call _install_so_full,$(n)))
_install_static  := $(foreach n,$(PAHO_NAMES),$(_install_lib)/lib$(n).a)

.PHONY: paho-libs paho-link install uninstall lib

# The top-level Makefile's `lib` (cargo build) also builds the Paho names.
lib: paho-libs

# Cargo decides whether the crate is up to date; a second make then relinks
# only what is older than the archive cargo left. Under `sudo make install`
# cargo is usually not on root's PATH: then the existing build is installed
# as it is (build it first with `make lib`).
paho-libs:
	@if command -v $(CARGO) >/dev/null 2>&1; then \
		echo "$(CARGO) build --release"; \
		$(CARGO) build --release --manifest-path $(_install_top)/Cargo.toml || exit 1; \
	elif [ -f $(_install_rel)/libferromq.a ] && [ -f $(_install_rel)/ferromq ]; then \
		echo "note: $(CARGO) is not on PATH; using the existing build in $(_install_rel)"; \
	else \
		echo "error: $(CARGO) is not on PATH and $(_install_rel) has no build;" \
			"run 'make lib' first (as the user who has cargo)" >&2; \
		exit 1; \
	fi
	$(MAKE) --no-print-directory -f $(_install_mk) paho-link

paho-link: $(_install_shared) $(_install_static) $(_install_map)
	@cd $(_install_lib) && for n in $(PAHO_NAMES); do \
		ln -sf lib$$n.so.$(PAHO_VERSION) lib$$n.so.$(PAHO_SOVER); \
		ln -sf lib$$n.so.$(PAHO_SOVER) lib$$n.so; \
	done

# The export list follows the headers, so a new API function is exported as
# soon as its declaration is generated into include/.
$(_install_map): $(wildcard $(_install_top)/include/*.h) $(_install_gen)
	@mkdir -p $(@D)
	$(_install_gen) "$(CC)" $(_install_top)/include $(_install_top)/include/*.h > $@.tmp
	mv $@.tmp $@

# One link per name, each with its own SONAME. --whole-archive keeps every
# object, --gc-sections then drops what the exported functions never reach,
# and the version script hides everything that is not Paho's API.
$(_install_lib)/libpaho-mqtt3%.so.$(PAHO_VERSION): $(_install_rel)/libferromq.a $(_install_map)
	@mkdir -p $(@D)
	$(CC) -shared -o $@ -Wl,-soname,libpaho-mqtt3$*.so.$(PAHO_SOVER) \
		-Wl,--whole-archive $< -Wl,--no-whole-archive \
		-Wl,--version-script=$(_install_map) -Wl,--gc-sections \
		-Wl,--no-undefined -Wl,-z,relro -Wl,-z,now -Wl,-z,noexecstack \
		$(PAHO_STATIC_DEPS)

# The static archives hold one relocatable object made of the whole Rust
# archive in which only the API names stay global: a program can then link
# other Rust code (or another copy of std) without clashing symbols. The
# embedded LLVM bitcode goes too (it is for Rust's LTO only, and older
# binutils' LLVM plugin cannot read it).
$(_install_names): $(_install_map)
	sed -n 's/^ *\(MQTT[A-Za-z0-9_]*\);$$/\1/p' $< > $@.tmp
	mv $@.tmp $@

$(_install_obj): $(_install_rel)/libferromq.a $(_install_names)
	$(LD) -r -o $@.tmp --whole-archive $< --no-whole-archive
	$(OBJCOPY) --remove-section=.llvmbc --remove-section=.llvmcmd \
		--keep-global-symbols=$(_install_names) $@.tmp $@
	rm -f $@.tmp

$(_install_lib)/libpaho-mqtt3%.a: $(_install_obj)
	@mkdir -p $(@D)
	rm -f $@.tmp
	$(AR) rcs $@.tmp $<
	mv $@.tmp $@

# Install ---------------------------------------------------------------

# The installed .pc and CMake files find everything relative to their own
# directory, so these are relative paths between the final directories.
_install_rel_to = $(shell realpath -m --relative-to='$(1)' '$(2)')
_install_empty :=
_install_space := $(_install_empty) $(_install_empty)
_install_edit = sed -e 's|@VERSION@|$(PAHO_VERSION)|g' -e 's|@SOVER@|$(PAHO_SOVER)|g' \
	-e 's|@PC_TO_PREFIX@|$(call _install_rel_to,$(pkgconfigdir),$(PREFIX))|g' \
	-e 's|@CMAKE_TO_PREFIX@|$(call _install_rel_to,$(cmakedir),$(PREFIX))|g' \
	-e 's|@PREFIX_TO_LIBDIR@|$(call _install_rel_to,$(PREFIX),$(libdir))|g' \
	-e 's|@PREFIX_TO_INCLUDEDIR@|$(call _install_rel_to,$(PREFIX),$(includedir))|g' \
	-e 's|@STATIC_DEPS@|$(PAHO_STATIC_DEPS)|g' \
	-e 's|@CMAKE_STATIC_DEPS@|$(subst $(_install_space),;,$(PAHO_STATIC_LIBS))|g' \
	-e 's|@SIZEOF_VOID_P@|$(shell echo __SIZEOF_POINTER__ | $(CC) -E -P -x c -)|g'

install: paho-libs
	$(INSTALL) -d $(DESTDIR)$(bindir) $(DESTDIR)$(libdir) $(DESTDIR)$(includedir) \
		$(DESTDIR)$(pkgconfigdir) $(DESTDIR)$(cmakedir)
	$(INSTALL) -m 755 $(_install_rel)/ferromq $(DESTDIR)$(bindir)/ferromq
	$(INSTALL) -m 644 $(_install_top)/include/*.h $(DESTDIR)$(includedir)/
	for n in $(PAHO_NAMES); do \
		$(INSTALL) -m 755 $(_install_lib)/lib$$n.so.$(PAHO_VERSION) $(DESTDIR)$(libdir)/ && \
		ln -sf lib$$n.so.$(PAHO_VERSION) $(DESTDIR)$(libdir)/lib$$n.so.$(PAHO_SOVER) && \
		ln -sf lib$$n.so.$(PAHO_SOVER) $(DESTDIR)$(libdir)/lib$$n.so && \
		$(INSTALL) -m 644 $(_install_lib)/lib$$n.a $(DESTDIR)$(libdir)/ && \
		$(_install_edit) -e "s|@NAME@|$$n|g" $(_install_pkgdir)/paho-mqtt.pc.in \
			> $(DESTDIR)$(pkgconfigdir)/$$n.pc || exit 1; \
	done
	$(INSTALL) -m 644 $(_install_pkgdir)/cmake/eclipse-paho-mqtt-cConfig.cmake $(DESTDIR)$(cmakedir)/
	for f in Targets ConfigVersion; do \
		$(_install_edit) $(_install_pkgdir)/cmake/eclipse-paho-mqtt-c$$f.cmake.in \
			> $(DESTDIR)$(cmakedir)/eclipse-paho-mqtt-c$$f.cmake || exit 1; \
	done
	@echo "FerroMQ installed in $(DESTDIR)$(PREFIX) as Eclipse Paho C $(PAHO_VERSION)"

# Removes exactly what install put there: the headers by the names in
# include/, so an unrelated file in $(includedir) is never touched.
uninstall:
	rm -f $(DESTDIR)$(bindir)/ferromq
	rm -f $(addprefix $(DESTDIR)$(includedir)/,$(notdir $(wildcard $(_install_top)/include/*.h)))
	for n in $(PAHO_NAMES); do \
		rm -f $(DESTDIR)$(libdir)/lib$$n.so.$(PAHO_VERSION) $(DESTDIR)$(libdir)/lib$$n.so.$(PAHO_SOVER) \
			$(DESTDIR)$(libdir)/lib$$n.so $(DESTDIR)$(libdir)/lib$$n.a \
			$(DESTDIR)$(pkgconfigdir)/$$n.pc; \
	done
	rm -f $(addprefix $(DESTDIR)$(cmakedir)/,eclipse-paho-mqtt-cConfig.cmake \
		eclipse-paho-mqtt-cConfigVersion.cmake eclipse-paho-mqtt-cTargets.cmake)
	rmdir $(DESTDIR)$(cmakedir) 2>/dev/null || true

# Restore the including Makefile's default goal (or leave it unset so that its
# first target becomes the default); alone, `lib` (paho-libs) is the default.
ifneq ($(_install_default_goal),)
.DEFAULT_GOAL := $(_install_default_goal)
else ifneq ($(firstword $(MAKEFILE_LIST)),$(lastword $(MAKEFILE_LIST)))
.DEFAULT_GOAL :=
endif

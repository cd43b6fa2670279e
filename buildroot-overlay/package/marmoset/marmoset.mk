################################################################################
#
# marmoset
#
################################################################################

MARMOSET_VERSION = 0.1.0
MARMOSET_SITE = $(BR2_EXTERNAL_MARMOSET_PATH)/..
MARMOSET_SITE_METHOD = local
MARMOSET_OVERRIDE_SRCDIR_RSYNC_EXCLUSIONS = \
	--exclude .git --exclude .cache --exclude out --exclude tests \
	--exclude bench-results --exclude buildroot-overlay --exclude firmware
MARMOSET_LICENSE = MIT
MARMOSET_LICENSE_FILES = LICENSE
MARMOSET_DEPENDENCIES = micropython

# The server is installed as bytecode made by the mpy-cross that the micropython
# package builds for the host, so the .mpy format always matches the target.
MARMOSET_MPY_CROSS = $(MICROPYTHON_DIR)/mpy-cross/build/mpy-cross

define MARMOSET_BUILD_CMDS
	cd $(@D)/server && for f in $$(find marmoset -name '*.py'); do \
		mkdir -p $(@D)/build/$$(dirname $$f) && \
		$(MARMOSET_MPY_CROSS) -o $(@D)/build/$${f%.py}.mpy $$f || exit 1; \
	done
endef

define MARMOSET_INSTALL_TARGET_CMDS
	cd $(@D)/build && for f in $$(find marmoset -name '*.mpy'); do \
		$(INSTALL) -D -m 0644 $$f $(TARGET_DIR)/usr/lib/micropython/$$f || exit 1; \
	done
	$(INSTALL) -D -m 0755 $(@D)/server/bin/cheetah $(TARGET_DIR)/usr/bin/cheetah
	cd $(@D)/www && for f in $$(find . -type f); do \
		$(INSTALL) -D -m 0644 $$f $(TARGET_DIR)/srv/www.releases/factory/$$f || exit 1; \
	done
	ln -sfn www.releases/factory $(TARGET_DIR)/srv/www
endef

define MARMOSET_INSTALL_INIT_SYSV
	$(INSTALL) -D -m 0755 $(MARMOSET_PKGDIR)/S50marmoset \
		$(TARGET_DIR)/etc/init.d/S50marmoset
endef

define MARMOSET_INSTALL_INIT_SYSTEMD
	$(INSTALL) -D -m 0644 $(MARMOSET_PKGDIR)/marmoset.service \
		$(TARGET_DIR)/usr/lib/systemd/system/marmoset.service
endef

define MARMOSET_USERS
	marmoset -1 marmoset -1 * /var/lib/marmoset - - Marmoset HTTP server
endef

define MARMOSET_PERMISSIONS
	/srv/www.releases d 755 marmoset marmoset - - - - -
endef

$(eval $(generic-package))

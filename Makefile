
# Paho C names, make install / make uninstall, pkg-config and CMake package.
include mk/install.mk

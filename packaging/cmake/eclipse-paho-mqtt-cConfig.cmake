# find_package(eclipse-paho-mqtt-c) entry point, installed by FerroMQ's
# `make install`. It defines the same imported targets as Eclipse Paho C:
#   eclipse-paho-mqtt-c::paho-mqtt3c   eclipse-paho-mqtt-c::paho-mqtt3c-static
#   eclipse-paho-mqtt-c::paho-mqtt3a   eclipse-paho-mqtt-c::paho-mqtt3a-static
#   eclipse-paho-mqtt-c::paho-mqtt3cs  eclipse-paho-mqtt-c::paho-mqtt3cs-static
#   eclipse-paho-mqtt-c::paho-mqtt3as  eclipse-paho-mqtt-c::paho-mqtt3as-static
# The libraries behind all of them are FerroMQ's (no OpenSSL dependency).

include("${CMAKE_CURRENT_LIST_DIR}/eclipse-paho-mqtt-cTargets.cmake")

# Tell the caller which implementation it found (Paho itself sets nothing).
set(eclipse-paho-mqtt-c_IMPLEMENTATION "FerroMQ")

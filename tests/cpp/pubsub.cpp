// A small Paho C++ (libpaho-mqttpp3, which sits on MQTTAsync) program:
// connect, subscribe, publish at QoS 0, 1 and 2, receive the three messages
// through the consumer queue, unsubscribe and disconnect.
// Usage: pubsub HOST PORT VERSION   (VERSION is 311 or 5)
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <unistd.h>

#include "mqtt/async_client.h"

static int failures = 0;

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) {                                                           \
            std::cerr << __FILE__ << ":" << __LINE__ << ": check failed: " #cond \
                      << std::endl;                                              \
            failures++;                                                          \
        }                                                                        \
    } while (0)

int main(int argc, char** argv)
{
    if (argc < 4) {
        std::cerr << "usage: " << argv[0] << " HOST PORT 311|5" << std::endl;
        return 2;
    }
    const std::string uri = std::string("tcp://") + argv[1] + ":" + argv[2];
    const bool v5 = std::string(argv[3]) == "5";
    const std::string topic = "ferromq/cpp/" + std::string(argv[3]) + "/" + std::to_string(getpid());
    const auto wait = std::chrono::seconds(10);

    try {
        mqtt::async_client cli(uri, "ferromq-cpp-" + std::string(argv[3]),
                               mqtt::create_options(v5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1),
                               nullptr);
        auto builder = mqtt::connect_options_builder().keep_alive_interval(std::chrono::seconds(20));
        if (v5)
            builder.mqtt_version(MQTTVERSION_5).clean_start(true);
        else
            builder.mqtt_version(MQTTVERSION_3_1_1).clean_session(true);
        cli.start_consuming();
        auto tok = cli.connect(builder.finalize());
        CHECK(tok->wait_for(wait));
        auto rsp = tok->get_connect_response();
        CHECK(rsp.get_mqtt_version() == (v5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1));
        CHECK(!rsp.is_session_present());
        CHECK(cli.is_connected());

        auto sub = cli.subscribe(topic, 2);
        CHECK(sub->wait_for(wait));
        auto granted = sub->get_subscribe_response().get_reason_codes();
        CHECK(granted.size() == 1 && granted[0] == 2);

        for (int qos = 0; qos <= 2; qos++) {
            auto msg = mqtt::make_message(topic, "payload at qos " + std::to_string(qos), qos, false);
            auto dt = cli.publish(msg);
            CHECK(dt->wait_for(wait));
        }
        for (int qos = 0; qos <= 2; qos++) {
            // QoS 2 may overtake nothing but can arrive after QoS 1 sent later,
            // so match by payload.
            auto m = cli.try_consume_message_for(wait);
            CHECK(m != nullptr);
            if (!m)
                break;
            CHECK(m->get_topic() == topic);
            CHECK(m->to_string() == "payload at qos " + std::to_string(m->get_qos()));
        }

        CHECK(cli.unsubscribe(topic)->wait_for(wait));
        cli.stop_consuming();
        CHECK(cli.disconnect()->wait_for(wait));
        CHECK(!cli.is_connected());
    }
    catch (const mqtt::exception& e) {
        std::cerr << "MQTT exception: " << e.what() << std::endl;
        return 1;
    }
    if (failures) {
        std::cerr << failures << " check(s) failed" << std::endl;
        return 1;
    }
    std::cout << "cpp pubsub (" << argv[3] << "): all checks passed" << std::endl;
    return 0;
}

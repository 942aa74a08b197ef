/* Calls that need no server, run against Paho C's library and against
 * ours (tests/abi.rs compares the outputs line by line). Only behaviour
 * both libraries share is printed: not version strings, and not the inputs
 * on which FerroMQ deliberately differs (NULLs Paho crashes on). */
#include <stdio.h>
#include <string.h>
#include "MQTTClient.h"

static MQTTProperty number(enum MQTTPropertyCodes id, unsigned int v)
{
	MQTTProperty p;
	memset(&p, 0, sizeof p);
	p.identifier = id;
	p.value.integer4 = v;
	return p;
}

static int add(MQTTProperties* props, enum MQTTPropertyCodes id, unsigned int v)
{
	MQTTProperty p = number(id, v);
	return MQTTProperties_add(props, &p);
}

static void show(const char* what, const char* s)
{
	printf("%s %s\n", what, s ? s : "(null)");
}

int main(void)
{
	MQTTProperties props = MQTTProperties_initializer;
	MQTTProperties copy;
	MQTTProperty p, *got;
	MQTTClient c = NULL;
	MQTTClient_createOptions co = MQTTClient_createOptions_initializer;
	int i, rc;

	printf("add unknown %d\n", add(&props, 99, 1));
	rc = add(&props, MQTTPROPERTY_CODE_MESSAGE_EXPIRY_INTERVAL, 77);
	printf("add expiry %d count %d max %d length %d\n", rc, props.count, props.max_count, props.length);
	rc = add(&props, MQTTPROPERTY_CODE_SUBSCRIPTION_IDENTIFIER, 20000);
	printf("add subid %d length %d\n", rc, props.length);
	rc = add(&props, MQTTPROPERTY_CODE_PAYLOAD_FORMAT_INDICATOR, 1);
	rc = add(&props, MQTTPROPERTY_CODE_TOPIC_ALIAS, 9);
	memset(&p, 0, sizeof p);
	p.identifier = MQTTPROPERTY_CODE_USER_PROPERTY;
	p.value.data.data = "name";
	p.value.data.len = 4;
	p.value.value.data = "value";
	p.value.value.len = 5;
	for (i = 0; i < 6; i++) /* Paho 1.3.11 corrupts its heap when string properties grow the array past 10 */
		rc = MQTTProperties_add(&props, &p);
	printf("add pairs %d count %d max %d length %d\n", rc, props.count, props.max_count, props.length);
	printf("has %d %d\n", MQTTProperties_hasProperty(&props, MQTTPROPERTY_CODE_USER_PROPERTY),
		MQTTProperties_hasProperty(&props, MQTTPROPERTY_CODE_CONTENT_TYPE));
	printf("count %d\n", MQTTProperties_propertyCount(&props, MQTTPROPERTY_CODE_USER_PROPERTY));
	printf("numeric %d %d %d %d %d\n",
		MQTTProperties_getNumericValue(&props, MQTTPROPERTY_CODE_MESSAGE_EXPIRY_INTERVAL),
		MQTTProperties_getNumericValue(&props, MQTTPROPERTY_CODE_SUBSCRIPTION_IDENTIFIER),
		MQTTProperties_getNumericValue(&props, MQTTPROPERTY_CODE_PAYLOAD_FORMAT_INDICATOR),
		MQTTProperties_getNumericValue(&props, MQTTPROPERTY_CODE_TOPIC_ALIAS),
		MQTTProperties_getNumericValue(&props, MQTTPROPERTY_CODE_CONTENT_TYPE));
	printf("numeric at %d %d\n",
		MQTTProperties_getNumericValueAt(&props, MQTTPROPERTY_CODE_MESSAGE_EXPIRY_INTERVAL, 1),
		MQTTProperties_getNumericValueAt(&props, MQTTPROPERTY_CODE_USER_PROPERTY, 3));
	got = MQTTProperties_getPropertyAt(&props, MQTTPROPERTY_CODE_USER_PROPERTY, 5);
	printf("get at %.*s=%.*s copied %d\n", got->value.data.len, got->value.data.data,
		got->value.value.len, got->value.value.data, got->value.data.data != p.value.data.data);
	printf("get missing %d\n", MQTTProperties_getPropertyAt(&props, MQTTPROPERTY_CODE_USER_PROPERTY, 6) == NULL);
	copy = MQTTProperties_copy(&props);
	printf("copy count %d length %d\n", copy.count, copy.length);
	MQTTProperties_free(&copy);
	MQTTProperties_free(&props);
	printf("free count %d max %d length %d array %d\n", props.count, props.max_count, props.length, props.array == NULL);

	for (i = -1; i <= 45; i++)
	{
		printf("property %d type %d ", i, MQTTProperty_getType(i));
		show("name", MQTTPropertyName(i));
	}
	for (i = -1; i <= 256; i++)
	{
		printf("reason %d ", i);
		show("text", MQTTReasonCode_toString(i));
	}
	for (i = -20; i <= 2; i++)
	{
		printf("error %d ", i);
		show("text", MQTTClient_strerror(i));
	}

	printf("create no uri %d\n", MQTTClient_create(&c, NULL, "id", MQTTCLIENT_PERSISTENCE_NONE, NULL));
	printf("create no id %d\n", MQTTClient_create(&c, "tcp://127.0.0.1:1883", NULL, MQTTCLIENT_PERSISTENCE_NONE, NULL));
	printf("create bad utf8 %d\n", MQTTClient_create(&c, "tcp://127.0.0.1:1883", "\xff\xfe", MQTTCLIENT_PERSISTENCE_NONE, NULL));
	printf("create bad persistence %d\n", MQTTClient_create(&c, "tcp://127.0.0.1:1883", "id", 7, NULL));
	co.struct_id[0] = 'X';
	printf("create bad options id %d\n", MQTTClient_createWithOptions(&c, "tcp://127.0.0.1:1883", "id", MQTTCLIENT_PERSISTENCE_NONE, NULL, &co));
	co.struct_id[0] = 'M';
	co.struct_version = 1;
	printf("create bad options version %d\n", MQTTClient_createWithOptions(&c, "tcp://127.0.0.1:1883", "id", MQTTCLIENT_PERSISTENCE_NONE, NULL, &co));
	printf("connected NULL %d\n", MQTTClient_isConnected(NULL));
	MQTTClient_destroy(&c);
	MQTTClient_free(NULL);
	printf("done\n");
	return 0;
}

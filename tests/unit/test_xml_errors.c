/* test_xml_errors.c: the XML tree, hostile XML, result location and AWS error bodies. */
#include "check.h"
#include "ciha/common.h"
#include "ciha/errors.h"
#include "alloc_int.h"
#include "buf_int.h"
#include "decode_int.h"
#include "xml_int.h"

static int parse_fails(const char *xml, const char *message_part)
{
	ciha__xml_node *root = NULL;
	int rc = ciha__xml_parse(&root, xml, strlen(xml));
	const char *msg = ciha_error_message(ciha_error_last());
	if (rc != CIHA_EINVAL || root != NULL || !strstr(msg, message_part)) {
		fprintf(stderr, "    rc %d, message [%s], wanted [%s]\n", rc, msg, message_part);
		ciha__xml_free(root);
		return 0;
	}
	return 1;
}

static void test_xml__tree_and_namespaces(void)
{
	const char *xml = "<?xml version=\"1.0\"?>\n<a:Root xmlns:a=\"urn:a\" xmlns=\"urn:d\"><Child x=\"1\">t&amp;1</Child>"
	                  "<b:Other xmlns:b=\"urn:b\"><Leaf>x</Leaf><Leaf>y</Leaf></b:Other><Empty/></a:Root>";
	ciha__xml_node *root = NULL;
	CHECK_INT(ciha__xml_parse(&root, xml, strlen(xml)), CIHA_OK);
	if (!root)
		return;
	CHECK_STR(root->name, "Root");
	CHECK_INT(root->nchildren, 3);
	CHECK_STR(ciha__xml_path_text(root, "Child"), "t&1");
	CHECK_STR(ciha__xml_path_text(root, "Other/Leaf"), "x");
	CHECK_STR(ciha__xml_path_text(root, "Empty"), "");
	CHECK(ciha__xml_path_text(root, "Other/Missing") == NULL);
	CHECK(ciha__xml_child(root, "Other")->parent == root);
	CHECK(ciha__xml_child(NULL, "x") == NULL);
	ciha__xml_free(root);
	ciha__xml_free(NULL);
}

static void test_xml__malformed_reports_position(void)
{
	CHECK(parse_fails("<a>\n  <b></c>\n</a>", "malformed XML at line 2 column"));
	CHECK(parse_fails("<a><b>", "malformed XML at line 1"));
	CHECK(parse_fails("", "malformed XML"));
	CHECK(parse_fails("not xml", "malformed XML at line 1 column 1"));
	CHECK(parse_fails("<x:a>unbound prefix</x:a>", "malformed XML"));
}

static void test_xml__deep_nesting_rejected(void)
{
	ciha__buf deep = CIHA__BUF_INIT, ok = CIHA__BUF_INIT;
	ciha__xml_node *root = NULL;
	for (int i = 0; i < 300; i++)
		ciha__buf_puts(&deep, "<a>");
	for (int i = 0; i < 300; i++)
		ciha__buf_puts(&deep, "</a>");
	CHECK(parse_fails(ciha__buf_cstr(&deep), "nesting deeper than 256"));
	for (int i = 0; i < 256; i++)
		ciha__buf_puts(&ok, "<a>");
	for (int i = 0; i < 256; i++)
		ciha__buf_puts(&ok, "</a>");
	CHECK_INT(ciha__xml_parse(&root, ok.ptr, ok.len), CIHA_OK);
	ciha__xml_free(root);
	ciha__buf_dispose(&deep);
	ciha__buf_dispose(&ok);
}

static void test_xml__entity_expansion_refused(void)
{
	const char *laughs =
		"<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">"
		"<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">"
		"<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">]><lolz>&lol3;</lolz>";
	const char *external = "<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><r>&x;</r>";
	CHECK(parse_fails(laughs, "DOCTYPE"));
	CHECK(parse_fails(external, "DOCTYPE"));
	CHECK(parse_fails("<r>&undefined;</r>", "malformed XML"));
}

static void test_xml__result_node_query(void)
{
	const char *xml = "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
	                  "<GetCallerIdentityResult><Account>123456789012</Account></GetCallerIdentityResult>"
	                  "<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></GetCallerIdentityResponse>";
	const char *empty = "<DeleteStackResponse><ResponseMetadata><RequestId>req-2</RequestId>"
	                    "</ResponseMetadata></DeleteStackResponse>";
	ciha__xml_node *root = NULL;
	const ciha__xml_node *result;
	const char *id = NULL;
	json_t *decoded = NULL;

	CHECK_INT(ciha__xml_parse(&root, xml, strlen(xml)), CIHA_OK);
	result = ciha__decode_result_node(root, CIHA__PROTO_QUERY, "GetCallerIdentity", &id);
	CHECK(result != NULL && strcmp(result->name, "GetCallerIdentityResult") == 0);
	CHECK_STR(id, "req-1");
	ciha__xml_free(root);

	CHECK_INT(ciha__xml_parse(&root, empty, strlen(empty)), CIHA_OK);
	result = ciha__decode_result_node(root, CIHA__PROTO_QUERY, "DeleteStack", &id);
	CHECK(result == NULL);
	CHECK_STR(id, "req-2");
	CHECK_INT(ciha__decode_schemaless(&decoded, result), CIHA_OK);
	CHECK(json_is_object(decoded) && json_object_size(decoded) == 0);
	json_decref(decoded);
	ciha__xml_free(root);
}

static void test_xml__result_node_ec2(void)
{
	const char *xml = "<DescribeSnapshotsResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">"
	                  "<requestId>ec2-req</requestId><snapshotSet/></DescribeSnapshotsResponse>";
	ciha__xml_node *root = NULL;
	const char *id = NULL;
	CHECK_INT(ciha__xml_parse(&root, xml, strlen(xml)), CIHA_OK);
	CHECK(ciha__decode_result_node(root, CIHA__PROTO_EC2, "DescribeSnapshots", &id) == root);
	CHECK_STR(id, "ec2-req");
	ciha__xml_free(root);
}

typedef struct {
	int status;
	const char *body;
	const char *code, *message, *request_id, *type;
} error_case;

static int error_matches(const error_case *c)
{
	ciha__aws_error e;
	int ok;
	if (ciha__aws_error_parse(&e, c->body, c->body ? strlen(c->body) : 0, c->status) != CIHA_OK)
		return 0;
#define FIELD_OK(got, want) ((want) == NULL ? (got) == NULL : ((got) != NULL && strcmp((got), (want)) == 0))
	ok = FIELD_OK(e.code, c->code) && FIELD_OK(e.message, c->message) &&
	     FIELD_OK(e.request_id, c->request_id) && FIELD_OK(e.type, c->type);
	if (!ok)
		fprintf(stderr, "    status %d: code [%s] message [%s] request id [%s] type [%s]\n", c->status,
		        e.code ? e.code : "(null)", e.message ? e.message : "(null)",
		        e.request_id ? e.request_id : "(null)", e.type ? e.type : "(null)");
	ciha__aws_error_dispose(&e);
	return ok;
}

static void test_errors__query_shape(void)
{
	error_case c = {400,
		"<ErrorResponse xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\">\n"
		"  <Error>\n    <Type>Sender</Type>\n    <Code>ValidationError</Code>\n"
		"    <Message>Stack with id x does not exist</Message>\n  </Error>\n"
		"  <RequestId>b9b4-query</RequestId>\n</ErrorResponse>\n",
		"ValidationError", "Stack with id x does not exist", "b9b4-query", "Sender"};
	CHECK(error_matches(&c));
}

static void test_errors__ec2_shape(void)
{
	error_case c = {400,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>InvalidInstanceID.NotFound"
		"</Code><Message>The instance ID 'i-1' does not exist</Message></Error></Errors>"
		"<RequestID>ec2-req-id</RequestID></Response>",
		"InvalidInstanceID.NotFound", "The instance ID 'i-1' does not exist", "ec2-req-id", NULL};
	CHECK(error_matches(&c));
}

static void test_errors__moto_strict_auth_shape(void)
{
	error_case c = {403,
		"<ErrorResponse><Errors><Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we "
		"calculated does not match the signature you provided.</Message></Error></Errors>"
		"<RequestId>moto-id</RequestId></ErrorResponse>",
		"SignatureDoesNotMatch",
		"The request signature we calculated does not match the signature you provided.", "moto-id", NULL};
	CHECK(error_matches(&c));
}

static void test_errors__bare_error_and_metadata_request_id(void)
{
	error_case bare = {404, "<Error><Code>NoSuchThing</Code><Message>gone</Message><RequestId>r1</RequestId></Error>",
	                   "NoSuchThing", "gone", "r1", NULL};
	error_case meta = {400, "<ErrorResponse><Error><Code>Throttling</Code><Message>Rate exceeded</Message></Error>"
	                        "<ResponseMetadata><RequestId>r2</RequestId></ResponseMetadata></ErrorResponse>",
	                   "Throttling", "Rate exceeded", "r2", NULL};
	CHECK(error_matches(&bare));
	CHECK(error_matches(&meta));
}

static void test_errors__html_and_empty_bodies(void)
{
	error_case html = {500, "<html><body><h1>500 Internal Server Error</h1></body></html>", "500",
	                   "Internal Server Error", NULL, NULL};
	error_case empty = {503, "", "503", "Service Unavailable", NULL, NULL};
	error_case none = {503, NULL, "503", "Service Unavailable", NULL, NULL};
	error_case text = {502, "upstream connect error", "502", "Bad Gateway", NULL, NULL};
	error_case odd = {599, "", "599", "Server Error", NULL, NULL};
	CHECK(error_matches(&html));
	CHECK(error_matches(&empty));
	CHECK(error_matches(&none));
	CHECK(error_matches(&text));
	CHECK(error_matches(&odd));
}

static void test_errors__truncated_and_malformed(void)
{
	error_case truncated = {400, "<ErrorResponse><Error><Code>ValidationErr", "400", "Bad Request", NULL, NULL};
	error_case malformed = {500, "<ErrorResponse><Error><Code>X</Code></Oops>", "500", "Internal Server Error",
	                        NULL, NULL};
	error_case no_code = {503, "<ErrorResponse><RequestId>r3</RequestId></ErrorResponse>", "503",
	                      "Service Unavailable", "r3", NULL};
	error_case bomb = {400, "<!DOCTYPE a [<!ENTITY b \"c\">]><a>&b;</a>", "400", "Bad Request", NULL, NULL};
	CHECK(error_matches(&truncated));
	CHECK(error_matches(&malformed));
	CHECK(error_matches(&no_code));
	CHECK(error_matches(&bomb));
}

static void test_errors__code_without_message(void)
{
	error_case c = {400, "<ErrorResponse><Error><Code>ComplexError</Code><TopLevel>x</TopLevel></Error></ErrorResponse>",
	                "ComplexError", "Bad Request", NULL, NULL};
	CHECK(error_matches(&c));
}

static void test_errors__dispose_is_idempotent(void)
{
	ciha__aws_error e;
	CHECK_INT(ciha__aws_error_parse(&e, "", 0, 500), CIHA_OK);
	ciha__aws_error_dispose(&e);
	ciha__aws_error_dispose(&e);
	ciha__aws_error_dispose(NULL);
	CHECK(e.code == NULL);
}

/* Text is the element's own character data, also around children; many
 * children and a large document fill several arena chunks; a subtree is
 * owned by its document, so freeing it alone does nothing. */
static void test_xml__mixed_text_many_children_and_subtrees(void)
{
	ciha__buf big = CIHA__BUF_INIT;
	ciha__xml_node *root = NULL;
	const char *mixed = "<a>one <b>x<c/>y</b> two</a>";
	char expect[32];
	CHECK_INT(ciha__xml_parse(&root, mixed, strlen(mixed)), CIHA_OK);
	if (root) {
		CHECK_STR(root->text, "one  two");
		CHECK_STR(ciha__xml_path_text(root, "b"), "xy");
		CHECK_STR(ciha__xml_path_text(root, "b/c"), "");
		ciha__xml_free(root->children[0]);
		CHECK_STR(ciha__xml_path_text(root, "b"), "xy");
		ciha__xml_free(root);
	}
	ciha__buf_puts(&big, "<set>");
	for (int i = 0; i < 5000; i++)
		ciha__buf_printf(&big, "<item><id>i-%04d</id><tags><t>k</t><t>v%d</t></tags></item>", i, i);
	ciha__buf_puts(&big, "</set>");
	CHECK_INT(ciha__xml_parse(&root, big.ptr, big.len), CIHA_OK);
	if (root) {
		CHECK_INT(root->nchildren, 5000);
		CHECK_STR(root->text, "");
		for (int i = 0; i < 5000; i += 999) {
			snprintf(expect, sizeof(expect), "i-%04d", i);
			CHECK_STR(ciha__xml_path_text(root->children[i], "id"), expect);
			CHECK(root->children[i]->parent == root);
			CHECK_INT(ciha__xml_child(root->children[i], "tags")->nchildren, 2);
		}
		ciha__xml_free(root);
	}
	ciha__buf_dispose(&big);
}

int main(void)
{
	RUN(test_xml__tree_and_namespaces);
	RUN(test_xml__malformed_reports_position);
	RUN(test_xml__deep_nesting_rejected);
	RUN(test_xml__mixed_text_many_children_and_subtrees);
	RUN(test_xml__entity_expansion_refused);
	RUN(test_xml__result_node_query);
	RUN(test_xml__result_node_ec2);
	RUN(test_errors__query_shape);
	RUN(test_errors__ec2_shape);
	RUN(test_errors__moto_strict_auth_shape);
	RUN(test_errors__bare_error_and_metadata_request_id);
	RUN(test_errors__html_and_empty_bodies);
	RUN(test_errors__truncated_and_malformed);
	RUN(test_errors__code_without_message);
	RUN(test_errors__dispose_is_idempotent);
	ciha_error_clear();
	CHECK_CASE("no library allocations outstanding", ciha__alloc_outstanding() == 0);
	return CHECK_DONE("test_xml_errors");
}

/* fuzz_env: ciha_env_parse (JSON or YAML) with a directory holding a small
 * template "t.yaml" and a stack policy "p.json" for specs to name. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include "fuzz_common.h"
#include "ciha/env.h"

static char base_dir[] = "/tmp/ciha-fuzz-env-XXXXXX";
static const char *const files[] = { "t.yaml", "p.json" };

static void write_file(const char *name, const char *text)
{
	char path[sizeof(base_dir) + 16];
	FILE *f;
	snprintf(path, sizeof(path), "%s/%s", base_dir, name);
	if (!(f = fopen(path, "w")) || fputs(text, f) < 0 || fclose(f) != 0)
		abort();
}

static void remove_dir(void)
{
	char path[sizeof(base_dir) + 16];
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", base_dir, files[i]);
		remove(path);
	}
	remove(base_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (!mkdtemp(base_dir))
		abort();
	atexit(remove_dir);
	write_file(files[0], "Parameters:\n  Size:\n    Type: Number\nResources:\n  Vol:\n"
	                     "    Type: AWS::EC2::Volume\n    Properties:\n      Size: !Ref Size\n"
	                     "      AvailabilityZone: us-east-1a\nOutputs:\n  VolumeId:\n    Value: !Ref Vol\n");
	write_file(files[1], "{\"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"Update:*\", "
	                     "\"Principal\": \"*\", \"Resource\": \"*\"}]}");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size);
	ciha_env *env = NULL;
	if (ciha_env_parse(&env, text, "fuzz-env.json", base_dir) == 0)
		ciha_env_name(env);
	ciha_env_free(env);
	free(text);
	return 0;
}

/*
 * fuzz_agent.c
 *		libFuzzer target for alfred-agent's pure parts: the configuration
 *		parser (with argv splitting and the claim_runs tools literal), the
 *		output check, sanitizing and key=value formatting.  Besides "no
 *		crash, no leak, no undefined behaviour" it checks invariants:
 *		a parsed configuration is complete, sanitized text passes the
 *		output check, a log value never spans lines.
 *
 *		make -C agent fuzz [FUZZ_TIME=60]
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent_core.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *text = malloc(size + 1);
	char	   *copy = malloc(size + 1);
	char		err[AGENT_ERRLEN];
	char		line[256] = "";
	AgentConfig cfg;
	int			i;

	memcpy(text, data, size);
	text[size] = '\0';

	alfred_agent_config_init(&cfg);
	if (alfred_agent_config_parse(text, &cfg, err, sizeof(err)) == 0)
	{
		char	   *tools = alfred_agent_tools_array(&cfg);

		if (cfg.ntools == 0 && !cfg.claim_all)
			abort();
		for (i = 0; i < cfg.ntools; i++)
			if (cfg.tools[i].argv == NULL || cfg.tools[i].argv[0] == NULL ||
				alfred_agent_find_tool(&cfg, cfg.tools[i].name) != &cfg.tools[i])
				abort();
		if ((tools == NULL) != cfg.claim_all)
			abort();
		free(tools);
	}
	else if (strncmp(err, "line ", 5) != 0)
		abort();				/* a rejection always says why, and where */
	alfred_agent_config_free(&cfg);

	memcpy(copy, data, size);
	alfred_agent_sanitize(copy, size);
	if (alfred_agent_check_output(copy, size) != -1)
		abort();

	alfred_agent_kv(line, sizeof(line), "k", text);
	if (strchr(line, '\n') != NULL || strlen(line) >= sizeof(line))
		abort();

	free(text);
	free(copy);
	return 0;
}

/**
 * The Java API of gpt-oss-tornado: {@link gptoss.api.GptOss#open} loads a checkpoint and starts a
 * {@link gptoss.api.Scheduler} that owns the engine and batches every request continuously; chat requests
 * ({@link gptoss.api.ChatRequest}: Harmony messages, tools, reasoning effort) stream through
 * {@link gptoss.api.ChatListener} and end in a {@link gptoss.api.ChatResult} with {@link gptoss.api.Usage} counts.
 * No CLI and no HTTP here: the command line, the server and the LangChain4j model are built on this package.
 */
package gptoss.api;

/**
 * The Harmony chat format of gpt-oss (spec §5).
 * <ul>
 *   <li>Data: {@link gptoss.model.harmony.Conversation}, {@link gptoss.model.harmony.Message},
 *       {@link gptoss.model.harmony.SystemContent}, {@link gptoss.model.harmony.DeveloperContent},
 *       {@link gptoss.model.harmony.ToolDescription} (immutable records).</li>
 *   <li>Prompts: {@link gptoss.model.harmony.HarmonyRenderer} renders them to token ids exactly as openai-harmony.</li>
 *   <li>Input files: {@link gptoss.model.harmony.HarmonyJson} (the library's JSON) and
 *       {@link gptoss.model.harmony.ChatCompletions} (OpenAI chat-completions requests, mapped as vLLM does).</li>
 *   <li>Output: {@link gptoss.model.harmony.HarmonyStreamParser} turns sampled ids into messages and events.</li>
 *   <li>{@link gptoss.model.harmony.HarmonyChat} ties these together for the CLI and servers.</li>
 * </ul>
 * Every input error is a {@link gptoss.model.harmony.HarmonyFormatException} naming the part at fault.
 */
package gptoss.model.harmony;

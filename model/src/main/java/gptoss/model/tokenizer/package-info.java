/**
 * The o200k_harmony tokenizer of gpt-oss (spec §4): {@link gptoss.model.tokenizer.HarmonyTokenizer} encodes text
 * with ordinary BPE only (special-token text stays text) and decodes every id of the 201,088-token vocabulary;
 * {@link gptoss.model.tokenizer.TextDecoder} turns streamed tokens into complete characters;
 * {@link gptoss.model.tokenizer.SpecialTokens} names the Harmony control tokens.
 */
package gptoss.model.tokenizer;

package gptoss.api;

import gptoss.model.harmony.Message;

import java.util.List;

/**
 * A finished assistant turn.
 *
 * @param text      the answer (final channel; cut before a stop string)
 * @param reasoning the chain of thought (analysis channel)
 * @param messages  every parsed Harmony message, to append to the conversation for the next turn
 * @param tokens    the generated token ids
 */
public record ChatResult(String text, String reasoning, List<ToolCall> toolCalls, FinishReason finishReason, Usage usage,
                         List<Message> messages, int[] tokens, Scheduler.Result timing) {
}

package gptoss.runtime.backend;

/**
 * A device a backend provider can run on.
 *
 * @param backend     provider name, e.g. "cpu" or "tornado"
 * @param index       device index within the provider
 * @param name        device name as the driver reports it
 * @param memoryBytes memory usable for weights and caches
 * @param details     driver, compute units, etc.
 */
public record DeviceInfo(String backend, int index, String name, long memoryBytes, String details) {
}

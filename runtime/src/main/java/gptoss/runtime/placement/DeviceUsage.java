package gptoss.runtime.placement;

/**
 * Memory a plan uses on one device. The host device (the first CPU instance) also carries the engine: the
 * embedding table in {@code weightBytes} and the engine's buffers in {@code activationBytes}.
 *
 * @param device          the device and its budget
 * @param weightBytes     tensor bytes held there
 * @param kvCacheBytes    KV cache of the layers whose attention runs there
 * @param activationBytes work buffers
 * @param reserveBytes    kept free for the device's runtime (accelerators only)
 */
public record DeviceUsage(DeviceSpec device, long weightBytes, long kvCacheBytes, long activationBytes, long reserveBytes) {

    /** Everything counted against the budget, the reserve included. */
    public long totalBytes() {
        return weightBytes + kvCacheBytes + activationBytes + reserveBytes;
    }

    /** Budget left (negative when over). */
    public long freeBytes() {
        return device.memoryBytes() - totalBytes();
    }

    public boolean fits() {
        return freeBytes() >= 0;
    }
}

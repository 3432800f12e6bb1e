package gptoss.runtime.backend;

/**
 * What a device backend has done since it was created: task-graph (kernel batch) executions and the bytes copied
 * between host and device in each direction (weights uploaded at start-up excluded). Differences of two snapshots
 * divided by the tokens generated in between give the per-token figures {@code bench} reports.
 */
public record DeviceTraffic(long executions, long hostToDeviceBytes, long deviceToHostBytes) {
    public static final DeviceTraffic NONE = new DeviceTraffic(0, 0, 0);

    public DeviceTraffic minus(DeviceTraffic earlier) {
        return new DeviceTraffic(executions - earlier.executions, hostToDeviceBytes - earlier.hostToDeviceBytes,
                deviceToHostBytes - earlier.deviceToHostBytes);
    }

    public DeviceTraffic plus(DeviceTraffic other) {
        return new DeviceTraffic(executions + other.executions, hostToDeviceBytes + other.hostToDeviceBytes,
                deviceToHostBytes + other.deviceToHostBytes);
    }

    public long bytes() {
        return hostToDeviceBytes + deviceToHostBytes;
    }
}

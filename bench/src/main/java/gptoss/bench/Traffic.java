package gptoss.bench;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * What a benchmark operation moved and computed. JMH reports both as rates next to the operation rate:
 * the {@code :bytes} row is bytes read per second, the {@code :flops} row floating-point operations per second
 * (a multiply-add counts 2).
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.OPERATIONS)
public class Traffic {
    public long bytes;
    public long flops;

    @Setup(Level.Iteration)
    public void clear() {
        bytes = 0;
        flops = 0;
    }
}

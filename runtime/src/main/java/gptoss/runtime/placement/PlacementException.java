package gptoss.runtime.placement;

/** A placement that cannot be made or does not fit; the message names the numbers that do not fit. */
public final class PlacementException extends IllegalArgumentException {
    public PlacementException(String message) {
        super(message);
    }
}

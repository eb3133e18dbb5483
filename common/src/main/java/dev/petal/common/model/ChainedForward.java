package dev.petal.common.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;

/**
 * A block's children run one after another, as {@code SequentialBlock} runs them, but each intermediate
 * result is closed as soon as the next child has consumed it.
 *
 * <p>Closing a Java handle only drops its reference: autograd keeps its own references to what the
 * backward pass needs (a convolution's input, a ReLU's output). Without this, DJL keeps every
 * intermediate of the step alive until the step's manager closes, where PyTorch frees a tensor as soon
 * as nothing uses it (a BatchNorm's output once the ReLU has read it, for one).
 */
final class ChainedForward {
    private ChainedForward() {}

    /** The children of {@code chain} applied to {@code inputs}; {@code inputs} stay open (the caller owns them). */
    static NDList run(ParameterStore store, Block chain, NDList inputs, boolean training) {
        NDList current = inputs;
        for (Pair<String, Block> child : chain.getChildren()) {
            NDList next = child.getValue().forward(store, current, training);
            if (current != inputs) {
                closeConsumed(current, next);
            }
            current = next;
        }
        return current;
    }

    /** Closes the arrays of {@code consumed} that are not also in {@code kept} (an identity passes its input on). */
    static void closeConsumed(NDList consumed, NDList kept) {
        for (NDArray array : consumed) {
            boolean passedOn = false;
            for (NDArray k : kept) {
                passedOn |= k == array;
            }
            if (!passedOn) {
                array.close();
            }
        }
    }
}

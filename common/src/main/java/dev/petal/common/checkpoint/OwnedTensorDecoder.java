package dev.petal.common.checkpoint;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * An NDManager for {@code Block.loadParameters} whose {@code decode} puts each stored tensor into
 * memory that libtorch owns, through one reused direct buffer; every other call goes to the real manager.
 *
 * <p>DJL's own decode gives each tensor a new direct buffer that the tensor aliases, and closing the
 * tensor does not free it: only a later garbage collection does. Here a closed tensor's memory is free at
 * once, so a model's loaded weights can make room for its folded ones. Reads DJL's NDArray encoding,
 * versions 1 to 3.
 */
final class OwnedTensorDecoder implements InvocationHandler {
    private static final String MAGIC = "NDAR";
    private final NDManager target;
    private final byte[] chunk = new byte[1 << 16];
    private ByteBuffer staging = ByteBuffer.allocateDirect(0);

    private OwnedTensorDecoder(NDManager target) {
        this.target = target;
    }

    /** {@code manager}, with {@code decode(InputStream)} replaced. */
    static NDManager over(NDManager manager) {
        return (NDManager) Proxy.newProxyInstance(NDManager.class.getClassLoader(), new Class<?>[] {NDManager.class},
                new OwnedTensorDecoder(manager));
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
        if (method.getName().equals("decode") && args != null && args.length == 1 && args[0] instanceof InputStream in) {
            return decode(in instanceof DataInputStream data ? data : new DataInputStream(in));
        }
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    private NDArray decode(DataInputStream in) throws IOException {
        if (!MAGIC.equals(in.readUTF())) {
            throw new IllegalArgumentException("not a stored NDArray");
        }
        int version = in.readInt();
        if (version < 1 || version > 3) {
            throw new IllegalArgumentException("NDArray encoding version " + version + " is not supported");
        }
        String name = version > 1 && in.readByte() == 1 ? in.readUTF() : null;
        in.readUTF(); // sparse format: parameters are dense
        DataType type = DataType.valueOf(in.readUTF());
        Shape shape = Shape.decode(in);
        if (version > 2 && in.readByte() == '>') {
            throw new IllegalArgumentException("big-endian NDArray data is not supported");
        }
        int length = in.readInt();
        if (length != shape.size() * type.getNumOfBytes()) {
            throw new IllegalArgumentException("stored array " + name + " of shape " + shape + " holds " + length + " bytes");
        }
        if (staging.capacity() < length) {
            staging = ByteBuffer.allocateDirect(length).order(ByteOrder.nativeOrder());
        }
        staging.clear();
        for (int left = length; left > 0; ) {
            int n = Math.min(left, chunk.length);
            in.readFully(chunk, 0, n);
            staging.put(chunk, 0, n);
            left -= n;
        }
        staging.flip();
        try (NDArray aliased = target.create(staging, shape, type)) {
            NDArray owned = aliased.duplicate();
            owned.setName(name);
            return owned;
        }
    }
}

public class Main {
    static void inner() {
        throw new IllegalStateException("inner failure");
    }

    public static void main(String[] args) {
        try {
            inner();
        } catch (IllegalStateException e) {
            throw new RuntimeException("outer wrapper", e);
        }
    }
}

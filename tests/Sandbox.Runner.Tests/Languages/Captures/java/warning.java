import java.util.*;

public class Main {
    public static void main(String[] args) {
        List list = new ArrayList();
        list.add("x");
        Integer i = new Integer(5);
        System.out.println(list.size() + i);
    }
}

#include <map>
#include <string>

struct Key {};

int main() {
    std::map<Key, int> m;
    m[Key{}] = 1;
    return 0;
}

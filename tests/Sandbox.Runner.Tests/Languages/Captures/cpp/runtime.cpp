#include <cassert>
#include <vector>

int check(const std::vector<int>& v) {
    assert(!v.empty() && "vector must not be empty");
    return v[0];
}

int main() {
    return check({});
}
